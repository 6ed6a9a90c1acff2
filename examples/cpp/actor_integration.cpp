// Using ActorRT from a program that runs its own CAF actor system: spawn the
// devices and an engine actor in it, then talk to the engine as to any actor.
// Usage: actor_integration model.onnx [jobs]
#include <cstdio>
#include <cstdlib>

#include "actors/engine_actor.hpp"
#include "actors/runtime.hpp"

using namespace actorrt;

namespace {

// An actor of the application: sends `jobs` inference requests at once (an
// actor never blocks: what exceeds the in-flight limit waits in the
// scheduler's queue), counts the answers and reports to `parent` when all
// are in.
caf::behavior client(caf::event_based_actor* self, engine_actor engine,
                     caf::actor parent, size_t input_size, int jobs) {
  auto answered = std::make_shared<int>(0);
  auto failed = std::make_shared<int>(0);
  auto one_more = [=] {
    if (++*answered == jobs)
      self->send(parent, *failed);
  };
  for (int i = 0; i < jobs; ++i) {
    auto input = blob::allocate(input_size);
    std::fill(input.data, input.data + input.size, 0);
    self
      ->request(engine, caf::infinite, infer_atom::value,
                std::vector<blob>{input})
      .then([=](tensors&) { one_more(); },
            [=](caf::error& e) {
              std::printf("error: %s\n", self->system().render(e).c_str());
              ++*failed;
              one_more();
            });
  }
  return {};
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.onnx [jobs]\n", argv[0]);
    return 2;
  }
  int jobs = argc > 2 ? std::atoi(argv[2]) : 20;

  // 1. The application's own actor system, with ActorRT's message types.
  caf::actor_system_config cfg;
  add_actorrt_types(cfg);
  caf::actor_system sys{cfg};

  // 2. Devices (a scheduler and one actor per NPU core) inside it.
  auto devices = start_devices(sys, {{"cpu", 3, ""}});

  // 3. An engine actor for the model (loads it on the cores first).
  auto m = model::load(argv[1]);
  auto engine = spawn_engine(sys, devices, m, InferenceOption{});

  // 4. Any actor can now send (infer_atom, input buffers) and get tensors
  //    back: one raw buffer of the input size, or one buffer per input.
  caf::scoped_actor self{sys};
  sys.spawn(client, engine, caf::actor{self}, m->input_size(), jobs);
  int failed = -1;
  self->receive([&](int n) { failed = n; });
  std::printf("%d inference requests answered, %d failed\n", jobs, failed);

  self->send_exit(engine, caf::exit_reason::user_shutdown);
  stop_devices(devices);
  return failed == 0 ? 0 : 1;
}
