// frame.hpp: the mandelbrot app's value types and helpers.
// - frame: what to render (size, iteration limit) and render_row(), the work;
// - row_result: one rendered row, the message a worker sends back;
// - faults: test switches for at-least-once delivery; app_options: the flags;
// - encode_png / sha256_hex / write_file: libpng and OpenSSL (EVP) wrappers.
// frame, row_result and faults are plain values with a CAF inspect() function, the
// form in which they can later cross nodes (a CAF type ID block registers
// them; the structs need no change).
#pragma once

#include <array>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <openssl/evp.h>
#include <png.h>
#include <zlib.h>

namespace mandelbrot {

// -- the work -----------------------------------------------------------------

/// Fixed point with 28 fraction bits: the same integers on every compiler and
/// machine (no floating-point contraction or rounding-mode differences).
constexpr int frac_bits = 28;
constexpr int64_t one = int64_t{1} << frac_bits;

/// The classic 16-colour escape-time palette (Ultra Fractal's default).
constexpr std::array<std::array<uint8_t, 3>, 16> palette{{
  {66, 30, 15},    {25, 7, 26},     {9, 1, 47},      {4, 4, 73},
  {0, 7, 100},     {12, 44, 138},   {24, 82, 177},   {57, 125, 209},
  {134, 181, 229}, {211, 236, 248}, {241, 233, 191}, {248, 201, 95},
  {255, 170, 0},   {204, 128, 0},   {153, 87, 0},    {106, 52, 3},
}};

/// frame says what to render: the region x in [-2.5, 1.0) with square pixels,
/// centred on the real axis.
struct frame {
  int width = 800;
  int height = 600;
  int max_iter = 256;

  /// Pixel size in fixed point: 3.5 units over `width` pixels.
  int64_t step() const {
    return 7 * one / (2 * int64_t{width});
  }

  /// Returns row `y` as width x 3 bytes (RGB).
  std::vector<uint8_t> render_row(int y) const {
    std::vector<uint8_t> rgb(3 * size_t(width));
    const int64_t d = step();
    const int64_t ci = int64_t{y} * d - int64_t{height} * d / 2;
    for (int x = 0; x < width; ++x) {
      const int64_t cr = -5 * one / 2 + int64_t{x} * d;
      int64_t zr = 0, zi = 0;
      int n = 0;
      for (; n < max_iter; ++n) {
        const int64_t zr2 = (zr * zr) >> frac_bits, zi2 = (zi * zi) >> frac_bits;
        if (zr2 + zi2 > 4 * one)
          break;
        zi = ((zr * zi) >> (frac_bits - 1)) + ci;
        zr = zr2 - zi2 + cr;
      }
      if (n < max_iter) // inside the set stays black
        for (int c = 0; c < 3; ++c)
          rgb[3 * size_t(x) + size_t(c)] = palette[size_t(n) % 16][size_t(c)];
    }
    return rgb;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame& x) {
  return f(caf::meta::type_name("mandelbrot.frame"), x.width, x.height, x.max_iter);
}

/// row_result is one rendered row: row number and width x 3 RGB bytes.
struct row_result {
  int y = 0;
  std::vector<uint8_t> rgb;

  row_result() = default;
  row_result(int y, std::vector<uint8_t> rgb) : y(y), rgb(std::move(rgb)) {}
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row_result& x) {
  return f(caf::meta::type_name("mandelbrot.row_result"), x.y, x.rgb);
}

/// faults are the test switches of at-least-once delivery: a worker sends
/// every `dup_every`-th row twice (a redelivery) and does not send every
/// `lose_every`-th row at all (as if its node died with it); 0 = off.
/// `crash_after` (a worker node's own switch, never sent) makes the node kill
/// itself with SIGKILL when its workers have taken that many rows, holding
/// the last one: a real node death in the middle of a render.
struct faults {
  int dup_every = 0;
  int lose_every = 0;
  int crash_after = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, faults& x) {
  return f(caf::meta::type_name("mandelbrot.faults"), x.dup_every, x.lose_every);
}

/// assignment is what a worker node gets from the coordinator before it
/// starts its workers (the arguments of a later remote `go`): the frame and
/// the fault switches.
struct assignment {
  frame f;
  faults fx;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assignment& x) {
  return f(caf::meta::type_name("mandelbrot.assignment"), x.f, x.fx);
}

// -- command line -------------------------------------------------------------

/// app_options are the app's flags (rotina passes them in config().remainder).
struct app_options {
  frame f;
  int workers = 4;
  faults fx;
  std::string out = "mandelbrot.png";
  int stall_timeout = 10; // coordinator: seconds without a row before rows in flight go out again
  int progress = 0;       // 1: print "progress DONE/TOTAL" lines on stderr
};

/// Parses `--width= --height= --max-iter= --workers= --out= --duplicate-every=
/// --lose-every= --crash-after= --stall-timeout= --progress=` into `o`. Prints an error naming the flag and returns false
/// on an unknown flag, a bad number or a value out of range.
inline bool parse_options(const std::vector<std::string>& args, app_options& o) {
  for (auto& arg : args) {
    auto eq = arg.find('=');
    std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    std::pair<const char*, int*> ints[] = {
      {"--width", &o.f.width},          {"--height", &o.f.height},
      {"--max-iter", &o.f.max_iter},    {"--workers", &o.workers},
      {"--duplicate-every", &o.fx.dup_every}, {"--lose-every", &o.fx.lose_every},
      {"--crash-after", &o.fx.crash_after},   {"--stall-timeout", &o.stall_timeout},
      {"--progress", &o.progress},
    };
    bool known = false;
    for (auto& [name, target] : ints)
      if (key == name) {
        known = true;
        char* end = nullptr;
        long v = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || v < 0 || v > 1 << 20) {
          std::fprintf(stderr, "mandelbrot: %s: expected a number in [0, 2^20]\n", arg.c_str());
          return false;
        }
        *target = int(v);
      }
    if (key == "--out" && !value.empty()) {
      o.out = value;
      known = true;
    }
    if (!known) {
      std::fprintf(stderr, "mandelbrot: unknown argument %s\n", arg.c_str());
      return false;
    }
  }
  if (o.f.width < 1 || o.f.height < 1 || o.f.max_iter < 1 || o.workers < 1 || o.stall_timeout < 1) {
    std::fprintf(stderr, "mandelbrot: --width, --height, --max-iter, --workers, --stall-timeout must be >= 1\n");
    return false;
  }
  if (int64_t{o.f.width} * o.f.height > int64_t{1} << 26) {
    std::fprintf(stderr, "mandelbrot: --width x --height must be at most 2^26 pixels\n");
    return false;
  }
  return true;
}

// -- output -------------------------------------------------------------------

/// Encodes `rgb` (8-bit RGB, rows top down) as a PNG in memory. Every option
/// that changes the bytes is fixed: no interlacing, filter None, zlib level 9,
/// default strategy, 15 window bits, memory level 8, and no time or text
/// chunks. Returns an empty vector if libpng fails.
inline std::vector<uint8_t> encode_png(const std::vector<uint8_t>& rgb, int width, int height) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    out.clear();
    return out;
  }
  png_set_write_fn(
    png, &out,
    [](png_structp p, png_bytep data, size_t n) {
      auto* buf = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
      buf->insert(buf->end(), data, data + n);
    },
    nullptr);
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level(png, 9);
  png_set_compression_strategy(png, Z_DEFAULT_STRATEGY);
  png_set_compression_window_bits(png, 15);
  png_set_compression_mem_level(png, 8);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y)
    png_write_row(png, rgb.data() + 3 * size_t(width) * size_t(y));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

/// Returns the SHA-256 of `bytes` as 64 lowercase hex digits (OpenSSL EVP).
inline std::string sha256_hex(const std::vector<uint8_t>& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1
            && EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) == 1
            && EVP_DigestFinal_ex(ctx, md, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return "error";
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

/// Writes `bytes` to `path`; returns false on any error.
inline bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok && !bytes.empty();
}

} // namespace mandelbrot
