// DX-RT's small helpers for examples and tools: files, memory, strings,
// random numbers and timing.
#pragma once

#include <sys/time.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "dxrt/common.h"
#include "dxrt/datatype.h"
#include "dxrt/tensor.h"

#define data_align(x, a) (a * (x / a) + (int) (((x % a) > 0) ? a : 0))

namespace dxrt {

/// 0..n-1 in a random order.
DXRT_API std::vector<int> RandomSequence(int n);
DXRT_API unsigned int RandomValue();
/// Splits `s` at every `divid`.
DXRT_API std::vector<std::string> StringSplit(std::string s, std::string divid);
/// 1234567 → "1,234,567".
DXRT_API std::string format_number_with_commas(int64_t num);
/// Reads the whole file into `d`; returns the bytes read. Throws
/// FileNotFoundException.
DXRT_API int DataFromFile(std::string f, void* d);
/// Reads exactly `size` bytes; throws FileNotFoundException or
/// FileIOException when the file is shorter.
DXRT_API void DataFromFile(std::string f, void* d, unsigned int size);
DXRT_API void DataDumpBin(std::string filename, void* data, unsigned int size);
/// The file's size in bytes; throws FileNotFoundException.
DXRT_API uint32_t SizeFromFile(std::string f);
/// The regular files in `dir`, sorted, as full paths.
DXRT_API std::vector<std::string> GetFileList(std::string dir);
/// `size` rounded up to 64 bytes.
DXRT_API uint64_t GetAlign(uint64_t size);
/// `size` bytes aligned to `align`, each set to `value`; free with MemFree.
DXRT_API void* MemAlloc(size_t size, size_t align = 8, int value = 0);
DXRT_API void MemFree(void** p);
/// Prints a countdown on one line, one second a step.
DXRT_API void DisplayCountdown(int seconds, std::string str);

template <typename T>
std::string int_to_hex(T i) {
  std::stringstream stream;
  stream << "0x" << std::setfill('0') << std::setw(sizeof(T) * 2) << std::hex
         << i;
  return stream.str();
}

template <typename T>
void DataDumpTxt(std::string filename, T* data, size_t ch, size_t row,
                 size_t col, bool showHex = false) {
  std::ofstream out(filename);
  if (showHex)
    out << std::hex << std::showbase;
  for (size_t c = 0; c < ch; ++c) {
    for (size_t h = 0; h < row; ++h) {
      for (size_t w = 0; w < col; ++w)
        out << *data++ << " ";
      out << "\n";
    }
    out << "\n";
  }
}

template <typename T>
std::vector<T> SelectElements(const std::vector<T>& org,
                              const std::vector<int>& indices) {
  if (indices.empty())
    return org;
  std::vector<T> picked;
  for (int index : indices)
    picked.push_back(org.at(index));
  return picked;
}

static inline void get_start_time(struct timeval* s) {
  gettimeofday(s, nullptr);
}

/// Microseconds since `s`.
static inline uint64_t get_elapsed_time(struct timeval s) {
  struct timeval e;
  gettimeofday(&e, nullptr);
  return uint64_t(e.tv_sec - s.tv_sec) * 1000000 + e.tv_usec - s.tv_usec;
}

} // namespace dxrt
