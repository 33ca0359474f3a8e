// The cost of one oneTBB fork and join as eqprop's engine uses them (parallel_for over n
// indices, simple_partitioner, one task per index), on this machine, at 1 and 2 threads.
// Bodies spin for a fixed time, so the excess over the ideal (n / threads bodies) is what a
// parallel region costs: waking or finding the worker, stealing, and joining.
//   tools/forkjoin [--regions N]   (builds this file with g++ into /tmp and runs it)
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using clock_type = std::chrono::steady_clock;

static void spin_for(double us) {
  const auto end = clock_type::now() + std::chrono::duration<double, std::micro>(us);
  while (clock_type::now() < end) {
  }
}

static double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * (v.size() - 1))];
}

static double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}

int main(int argc, char** argv) {
  int regions = 20000;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--regions")) regions = std::atoi(argv[i + 1]);
  if (regions < 100) {
    std::fprintf(stderr, "forkjoin: --regions must be at least 100\n");
    return 2;
  }
  std::printf("threads  tasks  body_us  ideal_us  median_us  p90_us  p99_us  mean_us  excess(mean)_us\n");
  for (int threads : {1, 2}) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
    for (double body : {0.0, 10.0, 100.0}) {
      const int tasks = 2;
      std::vector<double> t;
      t.reserve(regions);
      const int n = body >= 100.0 ? regions / 10 : regions;
      for (int r = 0; r < n; ++r) {
        const auto a = clock_type::now();
        tbb::parallel_for(
            tbb::blocked_range<int>(0, tasks, 1),
            [&](const tbb::blocked_range<int>& rg) {
              for (int i = rg.begin(); i != rg.end(); ++i) spin_for(body);
            },
            tbb::simple_partitioner());
        t.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - a).count());
      }
      const double ideal = body * ((tasks + threads - 1) / threads);
      std::printf("%7d  %5d  %7.1f  %8.1f  %9.2f  %6.2f  %6.2f  %7.2f  %15.2f\n", threads, tasks, body, ideal,
                  quantile(t, 0.5), quantile(t, 0.9), quantile(t, 0.99), mean(t), mean(t) - ideal);
    }
  }
  return 0;
}
