// errgroup: hashes every file under a directory with a bounded number of
// goroutines; the first error cancels the rest. errgroup's md5all example
// (ExampleGroup_pipeline); MD5 from OpenSSL's libcrypto (EVP_Digest), so the
// output matches `md5sum` (sorted by path, paths relative to the directory).
//
// The Go original (shortened):
//   g, ctx := errgroup.WithContext(ctx)
//   paths := make(chan string)
//   g.Go(func() error {
//       defer close(paths)
//       return filepath.Walk(root, func(path string, ...) error {
//           select { case paths <- path: case <-ctx.Done(): return ctx.Err() }
//           return nil }) })
//   c := make(chan result)
//   for i := 0; i < numDigesters; i++ {
//       g.Go(func() error {
//           for path := range paths {
//               data, err := os.ReadFile(path); if err != nil { return err }
//               select { case c <- result{path, md5.Sum(data)}: case <-ctx.Done(): return ctx.Err() }
//           }
//           return nil }) }
//   go func() { g.Wait(); close(c) }()
//   for r := range c { m[r.path] = r.sum }
//   return m, g.Wait()
//
// Across nodes (README.md): the digesters run on worker nodes
// (--role=worker --coordinator=NAME), on the coordinator's published channels
// "errgroup.files" (a file's relative name and bytes) and "errgroup.sums". The
// coordinator's errgroup holds the walker and a collector that also watches the
// worker nodes: a node lost mid-walk is the group's first error, which cancels
// the walk, and the program prints that error and no partial result.
//
// Run: errgroup <directory>
//      errgroup --role=coordinator --nodes=N <directory>
//      errgroup --role=worker --coordinator=NAME [--digesters=4] [--crash-after=0]
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <unistd.h>

#include <caf/meta/type_name.hpp>
#include <openssl/evp.h>

#include <rotina/chan.hpp>
#include <rotina/context.hpp>
#include <rotina/errgroup.hpp>
#include <rotina/remote.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/time.hpp>
#include <rotina/type_registry.hpp>
#include <rotina/wait_group.hpp>

#include "../common/cluster.hpp" // --role flags, waiting for nodes, lookup with retry

using namespace rotina;
namespace fs = std::filesystem;
using path_md5 = std::pair<std::string, std::string>; // path, MD5 in hex (Go: result)

// Go's md5.Sum(data), printed as %x. Empty on failure.
std::string md5_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_md5(), nullptr) != 1)
    return {};
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

task<error> hash_all(runtime& rt, fs::path root, std::map<std::string, std::string>& m) {
  auto [g, ctx] = errgroup::with_context(rt, background(rt));
  auto paths = make_chan<fs::path>();
  g.go([paths, root, c = ctx]() -> task<error> {
    std::error_code ec;
    for (fs::recursive_directory_iterator it{root, ec}, end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file())
        if (auto e = co_await send(c, paths, it->path()))
          co_return e;
    paths.close();
    co_return ec ? error{errc::failed, "walk " + root.string() + ": " + ec.message()} : error{};
  });
  auto c = make_chan<path_md5>();
  for (int i = 0; i < 4; ++i) // numDigesters
    g.go([paths, c, root, ctx = ctx]() -> task<error> {
      while (auto path = co_await paths.recv()) {
        std::ifstream in{*path, std::ios::binary}; // os.ReadFile
        if (!in)
          co_return error{errc::failed, "open " + path->string()};
        std::string data{std::istreambuf_iterator<char>{in}, {}};
        auto sum = md5_hex(data);
        if (sum.empty())
          co_return error{errc::failed, "md5 " + path->string() + ": EVP_Digest failed"};
        auto name = fs::relative(*path, root).generic_string();
        if (auto e = co_await send(ctx, c, path_md5{name, sum}))
          co_return e;
      }
      co_return error{};
    });
  go([g = g, c]() -> task<> { (void) co_await g.wait(); c.close(); });
  while (auto r = co_await c.recv())
    m[r->first] = r->second;
  co_return co_await g.wait();
}

// -- across nodes ---------------------------------------------------------------

/// A file to digest: its path relative to the root, and its bytes.
struct file_job {
  std::string name, data;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_job& x) {
  return f(caf::meta::type_name("errgroup.file_job"), x.name, x.data);
}

/// A digest; `name` "" is a worker node's last message (its digesters ended).
struct file_sum {
  std::string name, md5, node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_sum& x) {
  return f(caf::meta::type_name("errgroup.file_sum"), x.name, x.md5, x.node);
}

std::atomic<int> files_taken{0}; // by this node's digesters (for --crash-after)

// A digester of a worker node: a plain range loop over the remote channel.
task<> digester(recv_chan<file_job> files, send_chan<file_sum> sums, std::string node,
                int crash_after) {
  while (auto f = co_await files.recv()) {
    if (++files_taken == crash_after)
      ::kill(::getpid(), SIGKILL); // test switch: this node dies mid-walk
    file_sum r{f->name, md5_hex(f->data), node};
    co_await sums.send(std::move(r));
  }
}

// The coordinator's md5all: the walker and the collector in one errgroup.
task<error> hash_all_nodes(runtime& rt, fs::path root, std::map<std::string, std::string>& m,
                           size_t workers, recv_chan<std::string> lost, chan<file_job> files,
                           chan<file_sum> sums) {
  auto [g, ctx] = errgroup::with_context(rt, background(rt));
  g.go([files, root, c = ctx]() -> task<error> {
    std::error_code ec;
    for (fs::recursive_directory_iterator it{root, ec}, end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file()) {
        std::ifstream in{it->path(), std::ios::binary}; // os.ReadFile, on the walker's node
        if (!in)
          co_return error{errc::failed, "open " + it->path().string()};
        file_job job{fs::relative(it->path(), root).generic_string(),
                     std::string{std::istreambuf_iterator<char>{in}, {}}};
        if (auto e = co_await send(c, files, std::move(job)))
          co_return e;
      }
    files.close();
    co_return ec ? error{errc::failed, "walk " + root.string() + ": " + ec.message()} : error{};
  });
  g.go([&m, sums, lost, workers, c = ctx]() -> task<error> {
    std::set<std::string> ended; // nodes whose digesters all ended: they may leave
    auto take = [&](const file_sum& r) {
      if (r.name.empty())
        ended.insert(r.node);
      else
        m[r.name] = r.md5;
    };
    while (ended.size() < workers) {
      std::optional<file_sum> r;
      std::optional<std::string> gone;
      std::optional<unit> done;
      switch (co_await select(recv_case(sums, r), recv_case(lost, gone), recv_case(c.done(), done))) {
      case 0:
        if (r)
          take(*r);
        break;
      case 1:
        // what the node sent before it left is in the buffer (its "done" too)
        for (auto t = sums.try_recv(); t.value; t = sums.try_recv())
          take(*t.value);
        if (!ended.count(*gone))
          co_return error{errc::node_down, "worker node '" + *gone + "' was lost mid-walk"};
        break;
      default:
        co_return c.err();
      }
    }
    co_return error{};
  });
  co_return co_await g.wait();
}

int run_coordinator(runtime& rt, const cluster::role_options& ro, const std::string& root) {
  auto files = make_chan<file_job>(rt);
  auto sums = make_chan<file_sum>(rt, 16);
  auto lost = make_chan<std::string>(rt, 64);
  auto ready = make_chan<std::string>(rt, 64);
  rt.publish("errgroup.files", files);
  rt.publish("errgroup.sums", sums);
  rt.publish("errgroup.ready", ready);
  cluster::announce("errgroup", ro, rt);
  if (ro.nodes < 2) {
    std::fprintf(stderr, "errgroup: --role=coordinator needs --nodes >= 2 (its digesters are on worker nodes)\n");
    return 2;
  }
  auto peers = cluster::wait_for_workers("errgroup", rt, size_t(ro.nodes - 1),
                                         std::chrono::seconds{ro.join_timeout_s});
  if (!peers)
    return 1;
  for (auto& p : *peers)
    rt.on_node_down(p, [lost](const node& n, const error&) { (void) lost.try_send(n.name); });
  // Every worker node says it is ready (its digesters started) before the
  // walk begins, so that no node joins a walk that is already over.
  for (size_t n = 0; n < peers->size(); ++n) {
    auto deadline = after(rt, std::chrono::seconds{ro.join_timeout_s});
    std::optional<std::string> who;
    if (select_blocking(recv_case(ready, who), recv_case(deadline)) != 0 || !who) {
      std::fprintf(stderr, "errgroup: %zu worker nodes did not get ready\n", peers->size() - n);
      return 1;
    }
  }
  std::map<std::string, std::string> m;
  error err;
  wait_group wg{rt};
  wg.go([&]() -> task<> { err = co_await hash_all_nodes(rt, root, m, peers->size(), lost, files, sums); });
  wg.wait_blocking();
  if (err) { // the first error, and no partial result
    std::fprintf(stderr, "errgroup: %s\n", err.to_string().c_str());
    return 1;
  }
  for (auto& [path, sum] : m)
    std::printf("%s  %s\n", sum.c_str(), path.c_str());
  return 0;
}

int run_worker(runtime& rt, const cluster::role_options& ro, int digesters, int crash_after) {
  auto bound = std::chrono::seconds{ro.join_timeout_s};
  auto coord = cluster::wait_for_node("errgroup", rt, ro.coordinator, bound);
  if (!coord)
    return 1;
  auto files = cluster::lookup<chan<file_job>>(rt, *coord, "errgroup.files", bound);
  auto sums = cluster::lookup<chan<file_sum>>(rt, *coord, "errgroup.sums", bound);
  auto ready = cluster::lookup<chan<std::string>>(rt, *coord, "errgroup.ready", bound);
  if (!files || !sums || !ready) {
    auto e = !files ? files.error() : !sums ? sums.error() : ready.error();
    std::fprintf(stderr, "errgroup: %s\n", e.message().c_str());
    return 1;
  }
  auto name = rt.self().name;
  std::atomic<bool> failed{false};
  auto report = [&](const panic_error& e) { // the coordinator's node went down
    if (!failed.exchange(true))
      std::fprintf(stderr, "errgroup: worker node '%s': %s\n", name.c_str(), e.what());
  };
  wait_group all{rt};
  all.go([&, f = *files, s = *sums]() -> task<> {
    wait_group wg{rt};
    for (int d = 0; d < digesters; ++d)
      wg.go([&, f, s]() -> task<> {
        try {
          co_await digester(f, s, name, crash_after);
        } catch (const panic_error& e) {
          report(e);
        }
      });
    co_await wg.wait();
    if (failed)
      co_return;
    try {
      file_sum last{"", "", name}; // this node's digesters ended
      co_await s.send(std::move(last));
    } catch (const panic_error& e) {
      report(e);
    }
  });
  // The digesters are started (their receives go out first): say ready.
  try {
    ready->send_blocking(name);
  } catch (const panic_error& e) {
    report(e);
  }
  all.wait_blocking();
  if (failed)
    return 1;
  std::fprintf(stderr, "errgroup: worker node '%s' done: %d files\n", name.c_str(), files_taken.load());
  return 0;
}

int main(int argc, char** argv) {
  register_type<file_job>("errgroup.file_job");
  register_type<file_sum>("errgroup.file_sum");
  runtime rt{argc, argv};
  cluster::role_options ro;
  std::vector<std::string> args;
  int digesters = 4, crash_after = 0;
  for (auto& arg : rt.config().remainder) try {
    if (int k = cluster::parse_role_flag("errgroup", arg, ro); k < 0)
      return 2;
    else if (k > 0)
      continue;
    if (arg.rfind("--digesters=", 0) == 0)
      digesters = std::stoi(arg.substr(12));
    else if (arg.rfind("--crash-after=", 0) == 0)
      crash_after = std::stoi(arg.substr(14));
    else
      args.push_back(arg);
  } catch (const std::logic_error&) { // from std::stoi
    std::fprintf(stderr, "errgroup: not a number: %s\n", arg.c_str());
    return 2;
  }
  if (!cluster::check_roles("errgroup", ro, rt) || digesters < 1)
    return 2;
  if (ro.role == "worker") {
    if (!args.empty()) {
      std::fprintf(stderr, "errgroup: a worker reads no directory (the coordinator sends the files)\n");
      return 2;
    }
    return run_worker(rt, ro, digesters, crash_after);
  }
  if (args.size() != 1) {
    std::fprintf(stderr, "usage: errgroup <directory>\n");
    return 2;
  }
  if (ro.role == "coordinator")
    return run_coordinator(rt, ro, args[0]);
  std::map<std::string, std::string> m;
  error err;
  wait_group wg{rt};
  wg.go([&]() -> task<> { err = co_await hash_all(rt, args[0], m); });
  wg.wait_blocking();
  if (err) {
    std::fprintf(stderr, "errgroup: %s\n", err.to_string().c_str());
    return 1;
  }
  for (auto& [path, sum] : m)
    std::printf("%s  %s\n", sum.c_str(), path.c_str());
}
