// The C++ API on a worker node's cores: an actorrt-node process on
// loopback, a runtime that joins it, an engine that runs there.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "device/registry.hpp"
#include "engine_on_runtime.hpp"
#include "models.hpp"

extern char** environ;

using namespace actorrt;
using actorrt::test::model_path;

namespace {

/// An actorrt-node child process serving `devices`; killed on destruction.
struct node_process {
  pid_t pid = -1;
  std::string address;

  explicit node_process(const char* devices) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const char* argv[] = {ACTORRT_NODE_BIN, "--devices", devices, nullptr};
    REQUIRE(posix_spawn(&pid, ACTORRT_NODE_BIN, &actions, nullptr,
                        const_cast<char**>(argv), environ)
            == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    FILE* lines = ::fdopen(out[0], "r");
    char line[256] = {};
    REQUIRE(std::fgets(line, sizeof line, lines) != nullptr);
    std::fclose(lines);
    std::string text = line;
    REQUIRE(text.rfind("actorrt-node listening on ", 0) == 0);
    address = text.substr(std::strlen("actorrt-node listening on "));
    address.erase(address.find_last_not_of("\r\n") + 1);
  }

  ~node_process() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

} // namespace

TEST_CASE("the C++ API runs on a worker node's cores", "[nodes]") {
  node_process node{"sim:2"};
  auto rt
    = std::make_shared<runtime>(parse_devices("none"), scheduler_settings{},
                                std::vector<std::string>{node.address});
  InferenceEngine ie{open_engine(rt, model_path("tiny_cnn"))};
  auto lanes = ie.GetLaneBackends();
  CHECK(lanes.size() == 2);
  auto input = blob::allocate(ie.GetInputSize());
  std::memset(input.data, 0, input.size);
  uint64_t key = 4242;
  std::memcpy(input.data, &key, sizeof key);
  auto out = ie.Run({input});
  uint64_t echoed = 0;
  std::memcpy(&echoed, out.at(0).bytes.data, sizeof echoed);
  CHECK(echoed == key);
  bool remote = false;
  for (auto& c : rt->report())
    remote = remote || c.host == node.address;
  CHECK(remote);
}

TEST_CASE("a runtime that cannot join its node says which", "[nodes]") {
  CHECK_THROWS_WITH(runtime(parse_devices("none"), scheduler_settings{},
                            std::vector<std::string>{"127.0.0.1:1"}),
                    Catch::Contains("cannot join node 127.0.0.1:1"));
}

TEST_CASE("nodes that a name resolves to join a running client, also later",
          "[nodes]") {
  // A test resolver: the name stands for the addresses in `current`.
  auto mtx = std::make_shared<std::mutex>();
  auto current = std::make_shared<std::vector<std::string>>();
  auto resolve = [mtx, current](const std::string& host, const std::string&) {
    std::lock_guard<std::mutex> guard{*mtx};
    return host == "workers.test" ? *current : std::vector<std::string>{};
  };
  auto set_name = [&](std::vector<std::string> addresses) {
    std::lock_guard<std::mutex> guard{*mtx};
    *current = std::move(addresses);
  };
  auto alive_cores = [](runtime& rt) {
    int n = 0;
    for (auto& c : rt.report())
      n += c.alive;
    return n;
  };
  auto wait_for_cores = [&](runtime& rt, int n) {
    for (int i = 0; i < 200 && alive_cores(rt) != n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return alive_cores(rt);
  };
  auto a = std::make_unique<node_process>("sim:3");
  set_name({a->address, "127.0.0.1:1"}); // the second is not up (yet)
  auto rt
    = std::make_shared<runtime>(parse_devices("none"), scheduler_settings{},
                                std::vector<std::string>{}, true);
  rt->find_nodes("workers.test:7750", std::chrono::milliseconds(100), resolve);
  CHECK(alive_cores(*rt) == 3);
  InferenceEngine ie{open_engine(rt, model_path("tiny_cnn"))};
  auto input = blob::allocate(ie.GetInputSize());
  std::memset(input.data, 0, input.size);
  auto run_all = [&](int jobs) {
    std::vector<uint64_t> ids;
    for (int i = 0; i < jobs; ++i)
      ids.push_back(ie.RunAsync({input}));
    for (auto id : ids)
      ie.Wait(id);
  };
  run_all(30);
  CHECK(ie.GetMaxInFlight() == 6);
  // A node that starts after the client: it joins, and the running engine
  // uses it.
  node_process b{"sim:3:1ms"};
  set_name({a->address, b.address});
  REQUIRE(wait_for_cores(*rt, 6) == 6);
  CHECK(ie.GetMaxInFlight() == 12);
  run_all(300);
  std::map<std::string, uint64_t> by_host;
  for (auto& c : ie.GetStats().cores)
    by_host[c.host] += c.jobs_done;
  CHECK(by_host[a->address] > 0);
  CHECK(by_host[b.address] > 0);
  // A node that leaves the name and stops: the engine goes on without it,
  // and RunAsync takes the living node's credit.
  set_name({b.address});
  a.reset();
  REQUIRE(wait_for_cores(*rt, 3) == 3);
  run_all(60);
  CHECK(ie.GetMaxInFlight() == 6);
}
