// temperature: fetches the temperature of several cities concurrently and
// waits for all of them with a wait_group. The lookup is simulated (there is
// no network here): each one takes --latency-ms (default 100) milliseconds.
//
// The Go original:
//   var wg sync.WaitGroup
//   var mu sync.Mutex
//   temps := map[string]float64{}
//   for _, city := range cities {
//       wg.Go(func() {                      // wg.Add(1); go func() { defer wg.Done() ...
//           t := fetchTemperature(city)
//           mu.Lock(); temps[city] = t; mu.Unlock()
//       })
//   }
//   wg.Wait()
//   for _, city := range cities { fmt.Printf("%-8s %5.1f C\n", city, temps[city]) }
//
// Run: temperature [--latency-ms=N] [city...]
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

using namespace rotina;

// A stand-in for an HTTP call: waits `latency`, derives a value from the name.
task<double> fetch_temperature(std::string city, std::chrono::milliseconds latency) {
  co_await sleep(latency);
  unsigned h = 0;
  for (char c : city)
    h = h * 31 + static_cast<unsigned char>(c);
  co_return static_cast<double>(h % 300) / 10.0;
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  std::chrono::milliseconds latency{100};
  std::vector<std::string> cities;
  for (auto& arg : rt.config().remainder) {
    if (arg.rfind("--latency-ms=", 0) == 0)
      latency = std::chrono::milliseconds{std::stoi(arg.substr(13))};
    else
      cities.push_back(arg);
  }
  if (cities.empty())
    cities = {"Lisbon", "Porto", "Faro", "Braga", "Coimbra"};

  wait_group wg{rt};
  std::mutex mu;
  std::map<std::string, double> temps;
  auto start = std::chrono::steady_clock::now();
  for (auto& city : cities)
    wg.go([&, city]() -> task<> {
      auto t = co_await fetch_temperature(city, latency);
      std::lock_guard<std::mutex> guard{mu};
      temps[city] = t;
    });
  wg.wait_blocking();
  auto elapsed = std::chrono::steady_clock::now() - start;

  for (auto& city : cities)
    std::printf("%-8s %5.1f C\n", city.c_str(), temps[city]);
  // Sequential lookups would take cities x latency.
  std::printf("fetched %zu cities concurrently: %s\n", cities.size(),
              elapsed < latency * static_cast<int>(cities.size()) ? "yes" : "no");
}
