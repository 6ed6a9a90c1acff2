// DX-RT v3.1's dxbenchmark for ActorRT: runs every .onnx model of a folder
// at full load (RunAsync + callback) and writes per-model FPS, latency
// percentiles, NPU time and per-core utilisation as JSON, CSV and one
// self-contained HTML report with charts (inline SVG: nothing fetched).
// Usage: dxbenchmark --dir DIR [--recursive] [-l N | -t SEC] [--warmup N]
//        [--sort name|fps|latency] [--result-path DIR]
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actorrt/inference_engine.hpp"
#include "tools/common/batching.hpp"
#include "tools/common/core_usage.hpp"
#include "tools/common/latency.hpp"
#include "tools/common/measure.hpp"
#include "tools/common/number_checks.hpp"

using namespace actorrt;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> interrupted{false};

struct settings : tools::load {
  std::string dir;
  bool recursive = false;
  int warmup = 5;
  std::string sort = "name";
  std::string result_path = ".";
  bool use_ort = false;
  tools::batching batch;
};

struct model_figures {
  std::string name, path, error;
  bool simulated = false;
  int jobs = 0, errors = 0;
  double seconds = 0, fps = 0, npu_ms = 0, mean_batch = 0;
  json latency; // ms: mean, p50 ... max
  std::vector<int64_t> latency_us;
  std::vector<tools::core_usage> cores;
};

std::vector<fs::path> find_models(const std::string& dir, bool recursive) {
  if (!fs::is_directory(dir))
    throw InvalidArgument("--dir '" + dir + "' is not a folder");
  std::vector<fs::path> found;
  auto take = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && e.path().extension() == ".onnx")
      found.push_back(e.path());
  };
  if (recursive)
    for (auto& e : fs::recursive_directory_iterator(dir))
      take(e);
  else
    for (auto& e : fs::directory_iterator(dir))
      take(e);
  std::sort(found.begin(), found.end());
  return found;
}

/// RunAsync + callback at full load for `loops` jobs or `seconds`.
model_figures measure(const fs::path& path, const settings& s) {
  model_figures f;
  f.path = path.string();
  f.name = path.stem().string();
  try {
    InferenceOption opt;
    if (s.use_ort)
      opt.use_ort = true;
    s.batch.apply(opt);
    InferenceEngine ie{f.path, opt};
    f.simulated = ie.IsSimulated();
    blob input = blob::allocate(ie.GetInputSize());
    std::fill(input.data, input.data + input.size, uint8_t{0});
    for (int i = 0; i < s.warmup && !interrupted; ++i)
      ie.Run({input});
    auto before = ie.GetStats();
    tools::run_record r;
    f.seconds = tools::measure(ie, s, input, r, interrupted);
    f.latency_us = std::move(r.latency_us);
    f.errors = r.errors;
    f.jobs = r.done;
    auto after = ie.GetStats();
    f.fps = f.jobs / f.seconds;
    auto n = after.compute.count - before.compute.count;
    f.npu_ms
      = n ? (after.compute.total() - before.compute.total()) / double(n) : 0;
    f.latency = tools::latency_summary_ms(f.latency_us);
    f.cores = tools::core_usage_between(before, after, f.seconds);
    f.mean_batch = tools::mean_batch_between(before, after);
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  return f;
}

json to_json(const model_figures& f) {
  json cores = json::array();
  for (auto& c : f.cores)
    cores.push_back({{"device", c.device},
                     {"core", c.core},
                     {"backend", c.backend},
                     {"jobs", c.jobs},
                     {"utilisation", c.utilisation}});
  json j = {{"model", f.name}, {"path", f.path}, {"ok", f.error.empty()}};
  if (!f.error.empty()) {
    j["error"] = f.error;
    return j;
  }
  j.update({{"simulated", f.simulated},
            {"jobs", f.jobs},
            {"errors", f.errors},
            {"seconds", f.seconds},
            {"fps", f.fps},
            {"npu_time_ms", f.npu_ms},
            {"mean_batch", f.mean_batch},
            {"latency_ms", f.latency},
            {"cores", cores}});
  return j;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text)
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  return out;
}

/// A CSV field, quoted when it must be (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string out = "\"";
  for (char c : text)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// -- the HTML report: three charts and a table, styles inline -----------------

const char* palette[] = {"#3b6fb6", "#e07b39", "#3a9e6f", "#b6443b",
                         "#7d5ab6", "#8c6d31", "#d4a017", "#4aa3b5"};

/// Horizontal bars: FPS per model.
std::string fps_chart(const std::vector<model_figures>& ok) {
  double top = 0;
  for (auto& f : ok)
    top = std::max(top, f.fps);
  int row = 28, left = 180, width = 520;
  std::ostringstream svg;
  svg << "<svg class=\"chart\" id=\"fps-chart\" width=\"" << left + width + 90
      << "\" height=\"" << row * ok.size() + 10 << "\" role=\"img\">";
  for (size_t i = 0; i < ok.size(); ++i) {
    double w = top > 0 ? ok[i].fps / top * width : 0;
    auto y = row * i + 4;
    svg << "<text x=\"" << left - 8 << "\" y=\"" << y + 15
        << "\" text-anchor=\"end\">" << escape(ok[i].name) << "</text>"
        << "<rect class=\"bar fps-bar\" x=\"" << left << "\" y=\"" << y
        << "\" width=\"" << fmt("%.1f", std::max(1.0, w))
        << "\" height=\"20\" fill=\"" << palette[0] << "\"><title>"
        << escape(ok[i].name) << ": " << fmt("%.1f", ok[i].fps)
        << " FPS</title></rect>"
        << "<text x=\"" << left + w + 6 << "\" y=\"" << y + 15 << "\">"
        << fmt("%.1f", ok[i].fps) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

/// One histogram of a model's latencies (40 bins up to its p99.9), with
/// its p50 and p99 marked.
std::string latency_chart(const model_figures& f) {
  int width = 340, height = 120, bins = 40;
  double hi = std::max(f.latency.value("p99.9", 0.0), 1e-3);
  std::vector<int> counts(size_t(bins), 0);
  for (auto us : f.latency_us)
    ++counts[size_t(std::min<double>(bins - 1, double(us) / 1e3 / hi * bins))];
  int most = *std::max_element(counts.begin(), counts.end());
  std::ostringstream svg;
  svg << "<figure class=\"card\"><figcaption>" << escape(f.name)
      << "</figcaption><svg class=\"chart latency-chart\" width=\"" << width
      << "\" height=\"" << height + 20 << "\" role=\"img\">";
  double bw = double(width) / bins;
  for (int b = 0; b < bins; ++b) {
    double h = most ? double(counts[size_t(b)]) / most * height : 0;
    svg << "<rect class=\"bar latency-bar\" x=\"" << fmt("%.1f", b * bw)
        << "\" y=\"" << fmt("%.1f", height - h) << "\" width=\""
        << fmt("%.1f", bw - 1) << "\" height=\"" << fmt("%.1f", h)
        << "\" fill=\"" << palette[1] << "\"/>";
  }
  for (auto [name, color] :
       {std::pair{"p50", "#222"}, std::pair{"p99", "#b00"}}) {
    double x = std::min(1.0, f.latency.value(name, 0.0) / hi) * width;
    svg << "<line x1=\"" << fmt("%.1f", x) << "\" x2=\"" << fmt("%.1f", x)
        << "\" y1=\"0\" y2=\"" << height << "\" stroke=\"" << color
        << "\" stroke-dasharray=\"4 2\"/>";
  }
  svg << "<text x=\"0\" y=\"" << height + 15 << "\">0</text><text x=\"" << width
      << "\" y=\"" << height + 15 << "\" text-anchor=\"end\">"
      << fmt("%.3f", hi) << " ms</text></svg><p>p50 "
      << fmt("%.3f", f.latency.value("p50", 0.0)) << " ms · p99 "
      << fmt("%.3f", f.latency.value("p99", 0.0)) << " ms · max "
      << fmt("%.3f", f.latency.value("max", 0.0)) << " ms</p></figure>";
  return svg.str();
}

/// Grouped bars: each core's utilisation (0-100%) per model.
std::string utilisation_chart(const std::vector<model_figures>& ok) {
  size_t most = 1;
  for (auto& f : ok)
    most = std::max(most, f.cores.size());
  int height = 160, bar = 14, gap = 24;
  int group = int(most) * bar + gap;
  std::ostringstream svg;
  svg << "<svg class=\"chart\" id=\"utilisation-chart\" width=\""
      << 50 + group * int(ok.size()) << "\" height=\"" << height + 60
      << "\" role=\"img\">";
  for (int pct : {0, 50, 100}) {
    double y = height - pct / 100.0 * height + 10;
    svg << "<line x1=\"40\" x2=\"" << 50 + group * int(ok.size()) << "\" y1=\""
        << y << "\" y2=\"" << y << "\" stroke=\"#ddd\"/><text x=\"34\" y=\""
        << y + 4 << "\" text-anchor=\"end\">" << pct << "%</text>";
  }
  for (size_t m = 0; m < ok.size(); ++m) {
    int x0 = 50 + group * int(m);
    for (size_t c = 0; c < ok[m].cores.size(); ++c) {
      auto& core = ok[m].cores[c];
      double h = core.utilisation * height;
      svg << "<rect class=\"bar util-bar\" x=\"" << x0 + int(c) * bar
          << "\" y=\"" << fmt("%.1f", height - h + 10) << "\" width=\""
          << bar - 2 << "\" height=\"" << fmt("%.1f", std::max(h, 0.5))
          << "\" fill=\"" << palette[c % 8] << "\"><title>"
          << escape(ok[m].name) << " core " << core.device << ":" << core.core
          << ": " << fmt("%.0f", core.utilisation * 100) << "%</title></rect>";
    }
    svg << "<text x=\"" << x0 << "\" y=\"" << height + 28
        << "\" transform=\"rotate(20 " << x0 << " " << height + 28 << ")\">"
        << escape(ok[m].name) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

std::string html_report(const std::vector<model_figures>& all,
                        const settings& s) {
  std::vector<model_figures> ok;
  for (auto& f : all)
    if (f.error.empty())
      ok.push_back(f);
  bool simulated
    = std::any_of(ok.begin(), ok.end(), [](auto& f) { return f.simulated; });
  std::ostringstream html;
  html << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>ActorRT benchmark: "
       << escape(s.dir)
       << "</title><style>"
          "body{font:14px system-ui,sans-serif;margin:24px;color:#222}"
          "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
          "svg text{font:12px system-ui,sans-serif;fill:#333}"
          ".cards{display:flex;flex-wrap:wrap;gap:12px}"
          ".card{border:1px solid #ddd;border-radius:6px;padding:8px;margin:0}"
          ".card p{margin:4px 0 0;color:#555}"
          "figcaption{font-weight:600;margin-bottom:4px}"
          "table{border-collapse:collapse}td,th{padding:4px 10px;"
          "border-bottom:1px solid #eee;text-align:right}"
          "td:first-child,th:first-child{text-align:left}"
          ".warn{background:#fff3cd;padding:8px;border-radius:6px}"
          ".error{color:#b00}"
          "</style></head><body><h1>ActorRT benchmark</h1><p>"
       << ok.size() << " of " << all.size() << " models in " << escape(s.dir)
       << "; RunAsync + callback at full load.</p>";
  if (simulated)
    html << "<p class=\"warn\">SIMULATED NPU cores ran some models: their "
            "figures come from a latency model, not real compute.</p>";
  html << "<h2>Throughput (FPS per model)</h2>" << fps_chart(ok)
       << "<h2>Latency distribution per model</h2><p>End-to-end latency "
          "per job (submitted to callback); dashed: p50 (black), p99 "
          "(red).</p><div class=\"cards\">";
  for (auto& f : ok)
    html << latency_chart(f);
  html << "</div><h2>Per-core utilisation</h2><p>Share of the measured time "
          "each core computed the model's jobs. ";
  if (!ok.empty())
    for (size_t c = 0; c < ok.front().cores.size(); ++c)
      html << "<span style=\"color:" << palette[c % 8] << "\">&#9632;</span> "
           << "core " << ok.front().cores[c].device << ":"
           << ok.front().cores[c].core << " ";
  html << "</p>" << utilisation_chart(ok)
       << "<h2>Figures</h2><table><tr><th>model</th><th>FPS</th><th>NPU "
          "ms</th><th>mean ms</th><th>p50</th><th>p90</th><th>p99</th>"
          "<th>max</th><th>jobs</th></tr>";
  for (auto& f : all) {
    if (!f.error.empty()) {
      html << "<tr><td>" << escape(f.name)
           << "</td><td class=\"error\" colspan=\"8\">" << escape(f.error)
           << "</td></tr>";
      continue;
    }
    html << "<tr><td>" << escape(f.name) << "</td><td>" << fmt("%.1f", f.fps)
         << "</td><td>" << fmt("%.3f", f.npu_ms) << "</td>";
    for (auto key : {"mean", "p50", "p90", "p99", "max"})
      html << "<td>" << fmt("%.3f", f.latency.value(key, 0.0)) << "</td>";
    html << "<td>" << f.jobs << "</td></tr>";
  }
  html << "</table></body></html>\n";
  return html.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out)
    throw DeviceIO("cannot write '" + path.string() + "'");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark every ONNX model of a folder on ActorRT"};
  settings s;
  app.add_option("--dir", s.dir, "folder of .onnx models")->required();
  app.add_flag("--recursive", s.recursive, "also the folders below it");
  app.add_option("-l,--loops", s.loops, "inferences per model")
    ->check(tools::positive);
  app.add_option("-t,--time", s.seconds, "seconds per model")
    ->check(tools::positive);
  app.add_option("-w,--warmup", s.warmup, "runs before measuring")
    ->check(tools::non_negative);
  app.add_option("--sort", s.sort, "order of the results")
    ->check(CLI::IsMember({"name", "fps", "latency"}));
  app.add_option("--result-path", s.result_path,
                 "folder for dxbenchmark.json, .csv and .html");
  app.add_flag("--use-ort", s.use_ort, "run CPU lanes on ONNX Runtime");
  s.batch.add_flags(app);
  CLI11_PARSE(app, argc, argv);
  if (s.loops == 0 && s.seconds == 0)
    s.loops = 200;
  std::signal(SIGINT, [](int) { interrupted = true; });
  try {
    auto models = find_models(s.dir, s.recursive);
    if (models.empty())
      throw InvalidArgument("no .onnx model in '" + s.dir + "'");
    std::vector<model_figures> results;
    for (auto& path : models) {
      if (interrupted)
        break;
      std::fprintf(stderr, "dxbenchmark: %s\n", path.c_str());
      results.push_back(measure(path, s));
    }
    std::stable_sort(results.begin(), results.end(), [&](auto& a, auto& b) {
      if (s.sort == "fps")
        return a.fps > b.fps;
      if (s.sort == "latency")
        return a.latency.value("mean", 1e300) < b.latency.value("mean", 1e300);
      return a.name < b.name;
    });
    std::printf("%-24s %10s %9s %9s %9s %9s %6s  %s\n", "model", "FPS",
                "NPU ms", "p50 ms", "p99 ms", "max ms", "batch", "note");
    json out = {{"dir", s.dir}, {"models", json::array()}};
    std::ostringstream csv;
    csv << "model,path,ok,fps,npu_time_ms,latency_mean_ms,p50_ms,p90_ms,"
           "p95_ms,p99_ms,p99.9_ms,max_ms,jobs,errors,simulated,error,"
           "mean_batch\n";
    int failed = 0;
    for (auto& f : results) {
      out["models"].push_back(to_json(f));
      if (!f.error.empty()) {
        ++failed;
        std::printf("%-24s %10s %9s %9s %9s %9s %6s  FAILED: %s\n",
                    f.name.c_str(), "-", "-", "-", "-", "-", "-",
                    f.error.c_str());
        csv << csv_field(f.name) << ',' << csv_field(f.path)
            << ",false,,,,,,,,,,,,," << csv_field(f.error) << ",\n";
        continue;
      }
      std::printf("%-24s %10.1f %9.3f %9.3f %9.3f %9.3f %6.2f  %s\n",
                  f.name.c_str(), f.fps, f.npu_ms, f.latency.value("p50", 0.0),
                  f.latency.value("p99", 0.0), f.latency.value("max", 0.0),
                  f.mean_batch, f.simulated ? "SIMULATED" : "");
      csv << csv_field(f.name) << ',' << csv_field(f.path) << ",true," << f.fps
          << ',' << f.npu_ms;
      for (auto key : {"mean", "p50", "p90", "p95", "p99", "p99.9", "max"})
        csv << ',' << f.latency.value(key, 0.0);
      csv << ',' << f.jobs << ',' << f.errors << ','
          << (f.simulated ? "true" : "false") << ",," << f.mean_batch << "\n";
    }
    out["interrupted"] = interrupted.load();
    fs::create_directories(s.result_path);
    fs::path dir = s.result_path;
    write_file(dir / "dxbenchmark.json", out.dump(2) + "\n");
    write_file(dir / "dxbenchmark.csv", csv.str());
    write_file(dir / "dxbenchmark.html", html_report(results, s));
    std::printf("results: %s/dxbenchmark.{json,csv,html}\n",
                s.result_path.c_str());
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dxbenchmark: %s\n", e.what());
    return 2;
  }
}
