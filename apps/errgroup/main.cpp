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
// Run: errgroup <directory>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>

#include <openssl/evp.h>

#include <rotina/context.hpp>
#include <rotina/errgroup.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

using namespace rotina;
namespace fs = std::filesystem;
using result = std::pair<std::string, std::string>; // path, MD5 in hex

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
  auto c = make_chan<result>();
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
        if (auto e = co_await send(ctx, c, result{name, sum}))
          co_return e;
      }
      co_return error{};
    });
  go([g = g, c]() -> task<> { (void) co_await g.wait(); c.close(); });
  while (auto r = co_await c.recv())
    m[r->first] = r->second;
  co_return co_await g.wait();
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  auto& args = rt.config().remainder;
  if (args.size() != 1) {
    std::fprintf(stderr, "usage: errgroup <directory>\n");
    return 2;
  }
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
