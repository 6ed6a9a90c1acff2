#include "dxrt/util.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "core/inference_option.hpp"
#include "dxrt/exception/exception.h"
#include "dxrt/inference_option.h"

namespace dxrt {

InferenceOption DefaultInferenceOption;

int GetTaskMaxLoad() {
  return actorrt::InferenceOption::default_buffer_count();
}

std::ostream& operator<<(std::ostream& os, const Processor& p) {
  switch (p) {
    case NPU:
      return os << "NPU";
    case CPU:
      return os << "CPU";
    default:
      return os << "NONE";
  }
}

std::ostream& operator<<(std::ostream& os, const InferenceOption& o) {
  os << "devices [";
  for (size_t i = 0; i < o.devices.size(); ++i)
    os << (i ? ", " : "") << o.devices[i];
  return os << "], bound option " << o.boundOption << ", useORT "
            << (o.useORT ? "true" : "false") << ", bufferCount "
            << o.bufferCount;
}

std::vector<int> RandomSequence(int n) {
  std::vector<int> seq(std::max(n, 0));
  for (int i = 0; i < n; ++i)
    seq[i] = i;
  std::shuffle(seq.begin(), seq.end(), std::mt19937{std::random_device{}()});
  return seq;
}

unsigned int RandomValue() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return gen();
}

std::vector<std::string> StringSplit(std::string s, std::string divid) {
  std::vector<std::string> parts;
  if (divid.empty())
    return {s};
  size_t start = 0, at;
  while ((at = s.find(divid, start)) != std::string::npos) {
    parts.push_back(s.substr(start, at - start));
    start = at + divid.size();
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string format_number_with_commas(int64_t num) {
  auto digits
    = std::to_string(num < 0 ? -(num + 1) + uint64_t(1) : uint64_t(num));
  for (int i = int(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(size_t(i), ",");
  return (num < 0 ? "-" : "") + digits;
}

namespace {

std::ifstream open_input(const std::string& f) {
  std::ifstream in(f, std::ios::binary);
  if (!in)
    throw FileNotFoundException("cannot open " + f);
  return in;
}

} // namespace

uint32_t SizeFromFile(std::string f) {
  auto in = open_input(f);
  in.seekg(0, std::ios::end);
  return static_cast<uint32_t>(in.tellg());
}

int DataFromFile(std::string f, void* d) {
  auto size = SizeFromFile(f);
  DataFromFile(f, d, size);
  return static_cast<int>(size);
}

void DataFromFile(std::string f, void* d, unsigned int size) {
  if (d == nullptr)
    throw NullPointerException("DataFromFile: the buffer is null");
  auto in = open_input(f);
  in.read(static_cast<char*>(d), size);
  if (static_cast<unsigned int>(in.gcount()) != size)
    throw FileIOException(f + " holds " + std::to_string(in.gcount())
                          + " bytes, " + std::to_string(size) + " asked for");
}

void DataDumpBin(std::string filename, void* data, unsigned int size) {
  std::ofstream out(filename, std::ios::binary);
  if (!out)
    throw FileIOException("DataDumpBin: cannot write " + filename);
  out.write(static_cast<const char*>(data), size);
}

std::vector<std::string> GetFileList(std::string dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_regular_file())
      files.push_back(entry.path().string());
  if (ec)
    throw FileNotFoundException("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

uint64_t GetAlign(uint64_t size) {
  return (size + 63) / 64 * 64;
}

void* MemAlloc(size_t size, size_t align, int value) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max(align, sizeof(void*)), size) != 0)
    throw InvalidArgumentException("MemAlloc: cannot allocate "
                                   + std::to_string(size) + " bytes aligned to "
                                   + std::to_string(align));
  std::memset(p, value, size);
  return p;
}

void MemFree(void** p) {
  if (p != nullptr) {
    std::free(*p);
    *p = nullptr;
  }
}

void DisplayCountdown(int seconds, std::string str) {
  for (int s = seconds; s > 0; --s) {
    std::cout << "\r" << str << " " << s << " " << std::flush;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::cout << "\r" << str << " 0\n";
}

} // namespace dxrt
