#include "device/batching.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace actorrt {

namespace {

int64_t samples(const job& j) {
  return j.inputs.empty() ? 1 : j.inputs[0].info().shape[0];
}

/// `part`'s description for `n` samples, without bytes yet.
tensor of_batch(const tensor& part, int64_t n) {
  return {std::make_shared<const tensor_info>(part.info().with_batch(n)), {}};
}

/// The jobs `members` as one call of `n` samples: each input copied back
/// to back into `reuse`'s buffer for it (taken again when nobody else
/// holds it), each output sized (the call writes it, the jobs keep views).
job merge(const std::vector<job>& jobs, const std::vector<size_t>& members,
          int64_t n, std::vector<blob>& reuse) {
  job call;
  auto& first = jobs[members.front()];
  bool known = true; // the call can start once all its jobs have come
  for (auto j : members) {
    known = known && jobs[j].queued != 0;
    call.queued = std::max(call.queued, jobs[j].queued);
  }
  if (!known)
    call.queued = 0;
  reuse.resize(std::max(reuse.size(), first.inputs.size()));
  for (size_t k = 0; k < first.inputs.size(); ++k) {
    auto whole = of_batch(first.inputs[k], n);
    auto size = whole.info().byte_size();
    auto& kept = reuse[k];
    if (!kept.data || kept.owner.use_count() > 1 || kept.size < size)
      kept = blob::allocate(size);
    whole.bytes = kept.slice(0, size);
    size_t at = 0;
    for (auto j : members) {
      auto& bytes = jobs[j].inputs[k].bytes;
      std::memcpy(whole.bytes.data + at, bytes.data, bytes.size);
      at += bytes.size;
    }
    call.inputs.push_back(std::move(whole));
  }
  for (auto& part : first.outputs) {
    auto whole = of_batch(part, n);
    whole.bytes = blob::allocate(whole.info().byte_size());
    call.outputs.push_back(std::move(whole));
  }
  return call;
}

/// Gives the jobs `members` their part of `call`'s outputs.
void scatter(job& call, std::vector<job>& jobs,
             const std::vector<size_t>& members) {
  std::vector<size_t> at(call.outputs.size(), 0);
  for (auto j : members) {
    auto& job = jobs[j];
    for (size_t k = 0; k < call.outputs.size(); ++k) {
      auto& whole = call.outputs[k].bytes;
      auto& out = job.outputs[k];
      auto size = out.info().byte_size();
      if (out.bytes.data)
        std::memcpy(out.bytes.data, whole.data + at[k], size);
      else
        out.bytes = whole.slice(at[k], size);
      at[k] += size;
    }
    job.run_jobs = static_cast<int>(members.size());
    job.first_in_run = j == members.front();
  }
}

/// Runs the jobs `members` (admitted) one call each.
void run_alone(executor& lane, std::vector<job>& jobs,
               const std::vector<size_t>& members) {
  std::vector<job> calls;
  for (auto j : members)
    calls.push_back(std::move(jobs[j]));
  lane.run_batch(calls);
  for (size_t i = 0; i < members.size(); ++i)
    jobs[members[i]] = std::move(calls[i]);
}

} // namespace

void run_merged(executor& lane, std::vector<job>& jobs, int max_samples,
                std::vector<blob>& reuse) {
  for (size_t next = 0; next < jobs.size();) {
    // The next call: the following jobs whose samples fit, each admitted
    // (deadline, cancellation) just before it, so a job cancelled while an
    // earlier call ran never starts.
    auto now = now_ns();
    std::vector<size_t> members;
    int64_t n = 0;
    for (; next < jobs.size(); ++next) {
      auto s = samples(jobs[next]);
      if (!members.empty() && n + s > max_samples)
        break;
      if (!jobs[next].admit(now))
        continue;
      members.push_back(next);
      n += s;
    }
    if (members.size() <= 1) {
      if (!members.empty())
        run_alone(lane, jobs, members);
      continue;
    }
    auto began = now_ns();
    std::vector<job> call{merge(jobs, members, n, reuse)};
    lane.run_batch(call);
    if (call[0].error) {
      run_alone(lane, jobs, members); // each its own outcome
      continue;
    }
    scatter(call[0], jobs, members);
    // Their time on the lane runs from gathering their inputs to the end of
    // scattering the outputs: what merging costs counts when the lane
    // weighs whether it pays (batch_gain), not only the compute.
    auto ended = now_ns();
    for (auto j : members) {
      jobs[j].started = began;
      jobs[j].finished = ended;
    }
  }
}

bool batch_gain::merge() {
  bool pays
    = single_ns_ == 0 || merged_ns_ == 0 || merged_ns_ < worth * single_ns_;
  // Now and then the other kind, so that neither figure goes stale (and
  // a lane that always had company learns what one job alone takes).
  if (++since_other_ >= retry_every) {
    since_other_ = 0;
    return single_ns_ == 0 ? false : !pays;
  }
  return pays;
}

void batch_gain::record(int jobs, int64_t ns) {
  if (jobs < 1 || ns < 0)
    return;
  // A call too quick for the clock (a zero-latency simulated core) still
  // counts: as 1 ns, so that job_ns() tells it from "not measured yet".
  auto per_job = double(std::max<int64_t>(ns, 1)) / jobs;
  auto& recent = jobs > 1 ? merged_ns_ : single_ns_;
  recent = recent == 0
             ? per_job
             : 0.8 * recent + 0.2 * std::min(per_job, outlier * recent);
}

failure check_batching(executor& lane, const model& m) {
  std::mt19937 draws{7};
  std::vector<job> jobs(2);
  for (auto& job : jobs) {
    for (auto& meta : m.input_metas()) {
      tensor t{meta, blob::allocate(meta->byte_size())};
      auto* bytes = t.bytes.data;
      if (meta->type == dtype::float32) {
        std::uniform_real_distribution<float> value(0.f, 1.f);
        for (size_t i = 0; i < t.bytes.size / sizeof(float); ++i) {
          float x = value(draws);
          std::memcpy(bytes + i * sizeof x, &x, sizeof x);
        }
      } else if (meta->type == dtype::uint8 || meta->type == dtype::int8) {
        for (size_t i = 0; i < t.bytes.size; ++i)
          bytes[i] = static_cast<uint8_t>(draws());
      } else {
        std::memset(bytes, 0, t.bytes.size); // indices, shapes: 0 is valid
      }
      job.inputs.push_back(std::move(t));
    }
    job.outputs = attach(m.output_metas(), {});
  }
  auto one_by_one = jobs;
  for (auto& job : one_by_one)
    job.outputs = attach(m.output_metas(), {});
  lane.run_batch(one_by_one);
  std::vector<blob> reuse;
  std::vector<job> call{merge(jobs, {0, 1}, 2, reuse)};
  lane.run_batch(call);
  if (call[0].error)
    return call[0].error;
  scatter(call[0], jobs, {0, 1});
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (one_by_one[j].error)
      return one_by_one[j].error;
    for (size_t k = 0; k < jobs[j].outputs.size(); ++k) {
      auto& a = jobs[j].outputs[k];
      auto& b = one_by_one[j].outputs[k];
      bool same = a.bytes.size == b.bytes.size;
      if (same && a.info().type == dtype::float32) {
        for (size_t i = 0; same && i < a.bytes.size / sizeof(float); ++i) {
          auto x = a.as<float>()[i], y = b.as<float>()[i];
          same = std::fabs(x - y) <= 1e-4f + 1e-3f * std::fabs(y);
        }
      } else if (same) {
        same = std::memcmp(a.bytes.data, b.bytes.data, a.bytes.size) == 0;
      }
      if (!same)
        return {errc::invalid_model,
                "batch 2 differs from two batch-1 runs in output '"
                  + a.info().name + "'"};
    }
  }
  return {};
}

} // namespace actorrt
