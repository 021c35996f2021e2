// workers: Go by Example's worker pool (gobyexample.com/worker-pools). Three
// workers take jobs from a buffered jobs channel and send results to a results
// channel; main closes jobs to end the workers' range loops. Which worker runs
// which job varies from run to run, so the workers' trace lines go to stderr
// and main prints the results in job order and checks that the pool worked in
// parallel.
//
// The Go original:
//   func worker(id int, jobs <-chan int, results chan<- int) {
//       for j := range jobs {
//           fmt.Println("worker", id, "started  job", j)
//           time.Sleep(time.Second)
//           fmt.Println("worker", id, "finished job", j)
//           results <- j * 2
//       }
//   }
//   func main() {
//       const numJobs = 5
//       jobs := make(chan int, numJobs)
//       results := make(chan int, numJobs)
//       for w := 1; w <= 3; w++ {
//           go worker(w, jobs, results)
//       }
//       for j := 1; j <= numJobs; j++ {
//           jobs <- j
//       }
//       close(jobs)
//       for a := 1; a <= numJobs; a++ {
//           <-results
//       }
//   }
//
// Run: workers [--latency-ms=N]   (each job takes N ms, default 100)
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>

using namespace rotina;
using job_result = std::pair<int, int>; // job, job * 2

task<> worker(int id, recv_chan<int> jobs, send_chan<job_result> results,
              std::chrono::milliseconds latency) {
  while (auto j = co_await jobs.recv()) {
    std::fprintf(stderr, "worker %d started  job %d\n", id, *j);
    co_await sleep(latency); // the work
    std::fprintf(stderr, "worker %d finished job %d\n", id, *j);
    co_await results.send(job_result{*j, *j * 2});
  }
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  std::chrono::milliseconds latency{100};
  for (auto& arg : rt.config().remainder)
    if (arg.rfind("--latency-ms=", 0) == 0)
      latency = std::chrono::milliseconds{std::stoi(arg.substr(13))};

  const int num_jobs = 5;
  auto start = std::chrono::steady_clock::now();
  auto jobs = make_chan<int>(rt, num_jobs);
  auto results = make_chan<job_result>(rt, num_jobs);
  for (int w = 1; w <= 3; ++w)
    go(rt, worker, w, jobs, results, latency);
  for (int j = 1; j <= num_jobs; ++j)
    jobs.send_blocking(j);
  jobs.close();
  std::map<int, int> by_job;
  for (int a = 1; a <= num_jobs; ++a)
    by_job.insert(*results.recv_blocking());
  auto elapsed = std::chrono::steady_clock::now() - start;

  for (auto [job, r] : by_job)
    std::printf("job %d -> %d\n", job, r);
  // One worker would take num_jobs x latency; three take 2 x latency.
  std::printf("%d jobs, 3 workers, in parallel: %s\n", num_jobs,
              elapsed < latency * num_jobs ? "yes" : "no");
}
