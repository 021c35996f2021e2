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
// Across nodes (README.md): weather-service nodes (--role=worker
// --coordinator=NAME) each serve a slice of the cities of cities.csv (real
// names and coordinates; the model below is deterministic from them). The
// coordinator (--role=coordinator) reads the CSV, gives service node i of n
// every n-th city over a channel of its own ("temperature.jobs.<node>"), and
// collects the readings from "temperature.readings". A service node that goes
// down shows as an error row for each of its cities not answered yet, never as
// a hang or a missing row; so does a city not answered within
// --answer-timeout seconds.
//   func service(jobs <-chan city, readings chan<- reading) {
//       for c := range jobs { readings <- reading{c.Name, model(c), node} }
//   }
//
// Run: temperature [--latency-ms=N] [city...]
//      temperature --role=coordinator --nodes=N [--cities=cities.csv] [--answer-timeout=10]
//      temperature --role=worker --coordinator=NAME [--workers=4] [--crash-after=0]
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <caf/meta/type_name.hpp>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/remote.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/time.hpp>
#include <rotina/type_registry.hpp>
#include <rotina/wait_group.hpp>

#include "../common/cluster.hpp" // --role flags, waiting for nodes, lookup with retry

using namespace rotina;

/// A city of cities.csv: the job a service node gets.
struct city {
  std::string name, country;
  double lat = 0, lon = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, city& x) {
  return f(caf::meta::type_name("temperature.city"), x.name, x.country, x.lat, x.lon);
}

/// A service node's answer for one city.
struct reading {
  std::string city, node;
  double celsius = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reading& x) {
  return f(caf::meta::type_name("temperature.reading"), x.city, x.node, x.celsius);
}

/// A deterministic stand-in for a weather service: warmer near the equator,
/// colder inland at high latitude, a little east-west variation; one decimal.
double model(const city& c) {
  double t = 28.0 - 0.45 * std::fabs(c.lat) + 3.0 * std::sin(c.lon * M_PI / 180.0);
  return std::round(t * 10.0) / 10.0;
}

std::atomic<int> cities_taken{0}; // by this node's service goroutines

// One service goroutine of a weather-service node.
task<> service(recv_chan<city> jobs, send_chan<reading> readings, std::string node,
               std::chrono::milliseconds latency, int crash_after) {
  while (auto c = co_await jobs.recv()) {
    if (++cities_taken == crash_after)
      ::kill(::getpid(), SIGKILL); // test switch: this node dies holding a city
    co_await sleep(latency);        // the remote call a real service would make
    reading r{c->name, node, model(*c)};
    co_await readings.send(std::move(r));
  }
}

// A stand-in for an HTTP call: waits `latency`, derives a value from the name.
task<double> fetch_temperature(std::string city, std::chrono::milliseconds latency) {
  co_await sleep(latency);
  unsigned h = 0;
  for (char c : city)
    h = h * 31 + static_cast<unsigned char>(c);
  co_return static_cast<double>(h % 300) / 10.0;
}

bool read_cities(const std::string& path, std::vector<city>& out) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "temperature: cannot read %s\n", path.c_str());
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (n == 1 || line.empty())
      continue; // the header: name,country,latitude,longitude
    std::stringstream row(line);
    city c;
    std::string lat, lon;
    if (!std::getline(row, c.name, ',') || !std::getline(row, c.country, ',')
        || !std::getline(row, lat, ',') || !std::getline(row, lon)) {
      std::fprintf(stderr, "temperature: %s:%d: expected name,country,latitude,longitude\n",
                   path.c_str(), n);
      return false;
    }
    try {
      c.lat = std::stod(lat);
      c.lon = std::stod(lon);
    } catch (const std::logic_error&) {
      std::fprintf(stderr, "temperature: %s:%d: bad coordinates\n", path.c_str(), n);
      return false;
    }
    out.push_back(std::move(c));
  }
  return true;
}

// --role=coordinator: one job channel per service node, one readings channel.
int run_coordinator(runtime& rt, const cluster::role_options& ro, const std::string& csv,
                    int answer_timeout) {
  std::vector<city> cities;
  if (!read_cities(csv, cities))
    return 1;
  auto readings = make_chan<reading>(rt, 64);
  auto lost = make_chan<std::string>(rt, 64);
  rt.publish("temperature.readings", readings);
  cluster::announce("temperature", ro, rt);
  if (ro.nodes < 2) {
    std::fprintf(stderr, "temperature: --role=coordinator needs --nodes >= 2 (a service node)\n");
    return 2;
  }
  auto peers = cluster::wait_for_workers("temperature", rt, size_t(ro.nodes - 1),
                                         std::chrono::seconds{ro.join_timeout_s});
  if (!peers)
    return 1;
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, std::string> owner; // city -> service node
  std::map<std::string, std::string> answer; // city -> row text
  std::set<std::string> live;
  for (size_t i = 0; i < peers->size(); ++i) {
    auto& p = (*peers)[i];
    // buffered to the slice's size: filling it never blocks, whatever the node does
    size_t slice = (cities.size() + peers->size() - 1 - i) / peers->size();
    auto jobs = make_chan<city>(rt, slice);
    rt.publish("temperature.jobs." + p.name, jobs);
    for (size_t k = i; k < cities.size(); k += peers->size()) {
      owner[cities[k].name] = p.name;
      (void) jobs.try_send(cities[k]);
    }
    jobs.close(); // the service's range loop ends after its slice
    live.insert(p.name);
    rt.on_node_down(p, [lost](const node& n, const error&) { (void) lost.try_send(n.name); });
  }
  ticker tick{rt, std::chrono::milliseconds{250}};
  auto last = std::chrono::steady_clock::now();
  char buf[160];
  auto take = [&](const reading& r) {
    if (owner.count(r.city) && !answer.count(r.city)) {
      std::snprintf(buf, sizeof buf, "%-14s %5.1f C  (%s)", r.city.c_str(), r.celsius,
                    r.node.c_str());
      answer[r.city] = buf;
    }
    last = std::chrono::steady_clock::now();
  };
  while (answer.size() < cities.size()) {
    std::optional<reading> r;
    std::optional<std::string> gone;
    switch (select_blocking(recv_case(readings, r), recv_case(lost, gone), recv_case(tick.c()))) {
    case 0:
      if (r)
        take(*r);
      break;
    case 1:
      live.erase(*gone);
      // a reading whose send completed is in the buffer: it counts, even if
      // select chose the node's end first
      for (auto t = readings.try_recv(); t.value; t = readings.try_recv())
        take(*t.value);
      for (auto& [name, node_name] : owner)
        if (node_name == *gone && !answer.count(name))
          answer[name] = name + std::string(name.size() < 14 ? 14 - name.size() : 0, ' ')
                         + " ERROR: service node '" + *gone + "' is down";
      break;
    default:
      if (std::chrono::steady_clock::now() - last > std::chrono::seconds{answer_timeout})
        for (auto& [name, node_name] : owner)
          if (!answer.count(name))
            answer[name] = name + std::string(name.size() < 14 ? 14 - name.size() : 0, ' ')
                           + " ERROR: no answer from '" + node_name + "' within "
                           + std::to_string(answer_timeout) + "s";
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  int errors = 0;
  for (auto& c : cities) {
    std::printf("%s\n", answer[c.name].c_str());
    errors += answer[c.name].find(" ERROR: ") != std::string::npos;
  }
  std::printf("%zu cities from %zu service nodes: %zu answered, %d errors (%.0f ms)\n",
              cities.size(), peers->size(), cities.size() - size_t(errors), errors,
              std::chrono::duration<double, std::milli>(elapsed).count());
  // wait (bounded) until the service nodes have left, so none is cut off
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{ro.join_timeout_s};
  while (!live.empty() && std::chrono::steady_clock::now() < deadline) {
    std::optional<reading> r;
    std::optional<std::string> gone;
    if (select_blocking(recv_case(readings, r), recv_case(lost, gone), recv_case(tick.c())) == 1)
      live.erase(*gone);
  }
  return 0;
}

// --role=worker: a weather-service node.
int run_worker(runtime& rt, const cluster::role_options& ro, std::chrono::milliseconds latency,
               int workers, int crash_after) {
  auto bound = std::chrono::seconds{ro.join_timeout_s};
  auto coord = cluster::wait_for_node("temperature", rt, ro.coordinator, bound);
  if (!coord)
    return 1;
  auto name = rt.self().name;
  auto jobs = cluster::lookup<chan<city>>(rt, *coord, "temperature.jobs." + name, bound);
  auto readings = cluster::lookup<chan<reading>>(rt, *coord, "temperature.readings", bound);
  if (!jobs || !readings) {
    auto err = !jobs ? jobs.error() : readings.error();
    std::fprintf(stderr, "temperature: %s\n", err.message().c_str());
    return 1;
  }
  std::atomic<bool> failed{false};
  wait_group wg{rt};
  for (int w = 0; w < workers; ++w)
    wg.go([&, j = *jobs, out = *readings]() -> task<> {
      try {
        co_await service(j, out, name, latency, crash_after);
      } catch (const panic_error& e) { // the coordinator's node went down
        if (!failed.exchange(true))
          std::fprintf(stderr, "temperature: service: %s\n", e.what());
      }
    });
  wg.wait_blocking();
  if (failed)
    return 1;
  std::fprintf(stderr, "temperature: service node '%s' done: %d cities\n", name.c_str(),
               cities_taken.load());
  return 0;
}

int main(int argc, char** argv) {
  register_type<city>("temperature.city");
  register_type<reading>("temperature.reading");
  runtime rt{argc, argv};
  std::chrono::milliseconds latency{100};
  std::vector<std::string> cities;
  cluster::role_options ro;
  std::string csv = TEMPERATURE_CITIES_CSV;
  int workers = 4, crash_after = 0, answer_timeout = 10;
  for (auto& arg : rt.config().remainder) try {
    if (int k = cluster::parse_role_flag("temperature", arg, ro); k < 0)
      return 2;
    else if (k > 0)
      continue;
    if (arg.rfind("--latency-ms=", 0) == 0)
      latency = std::chrono::milliseconds{std::stoi(arg.substr(13))};
    else if (arg.rfind("--cities=", 0) == 0)
      csv = arg.substr(9);
    else if (arg.rfind("--workers=", 0) == 0)
      workers = std::stoi(arg.substr(10));
    else if (arg.rfind("--crash-after=", 0) == 0)
      crash_after = std::stoi(arg.substr(14));
    else if (arg.rfind("--answer-timeout=", 0) == 0)
      answer_timeout = std::stoi(arg.substr(17));
    else
      cities.push_back(arg);
  } catch (const std::logic_error&) { // from std::stoi
    std::fprintf(stderr, "temperature: not a number: %s\n", arg.c_str());
    return 2;
  }
  if (!cluster::check_roles("temperature", ro, rt))
    return 2;
  if (workers < 1 || answer_timeout < 1 || latency.count() < 0) {
    std::fprintf(stderr, "temperature: need --workers >= 1, --answer-timeout >= 1, --latency-ms >= 0\n");
    return 2;
  }
  if (ro.role == "worker")
    return run_worker(rt, ro, latency, workers, crash_after);
  if (ro.role == "coordinator")
    return run_coordinator(rt, ro, csv, answer_timeout);
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
