// mandelbrot_reference: the test oracle for the mandelbrot app. Renders the same
// image on one thread, without rotina and without the app's code (frame.hpp),
// and writes it with the same libpng settings straight to a FILE*; the test
// (check.cmake) compares the two PNG files byte by byte.
//
// Run: mandelbrot_reference WIDTH HEIGHT MAX_ITER OUT.png
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <png.h>
#include <zlib.h>

namespace {

const unsigned char colours[16][3] = {
  {66, 30, 15},    {25, 7, 26},     {9, 1, 47},      {4, 4, 73},
  {0, 7, 100},     {12, 44, 138},   {24, 82, 177},   {57, 125, 209},
  {134, 181, 229}, {211, 236, 248}, {241, 233, 191}, {248, 201, 95},
  {255, 170, 0},   {204, 128, 0},   {153, 87, 0},    {106, 52, 3},
};

// Escape time of c = (cr, ci) in Q35.28 fixed point; max_iter if it stays.
int escape_time(int64_t cr, int64_t ci, int max_iter) {
  const int64_t four = int64_t{4} << 28;
  int64_t x = 0, y = 0;
  for (int i = 0; i < max_iter; ++i) {
    int64_t xx = (x * x) >> 28;
    int64_t yy = (y * y) >> 28;
    if (xx + yy > four)
      return i;
    int64_t xy2 = (x * y) >> 27; // 2xy
    x = xx - yy + cr;
    y = xy2 + ci;
  }
  return max_iter;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: mandelbrot_reference WIDTH HEIGHT MAX_ITER OUT.png\n");
    return 2;
  }
  const int w = std::atoi(argv[1]), h = std::atoi(argv[2]), max_iter = std::atoi(argv[3]);
  const int64_t step = (int64_t{7} << 28) / (2 * int64_t{w}); // 3.5 / w
  std::vector<unsigned char> image(size_t(w) * size_t(h) * 3, 0);
  for (int py = 0; py < h; ++py)
    for (int px = 0; px < w; ++px) {
      int64_t cr = -(int64_t{5} << 27) + px * step; // -2.5 + px * step
      int64_t ci = py * step - (h * step) / 2;
      int n = escape_time(cr, ci, max_iter);
      unsigned char* p = &image[(size_t(py) * size_t(w) + size_t(px)) * 3];
      if (n != max_iter)
        for (int c = 0; c < 3; ++c)
          p[c] = colours[n % 16][c];
    }

  std::FILE* out = std::fopen(argv[4], "wb");
  if (!out)
    return 1;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png)))
    return 1;
  png_init_io(png, out);
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level(png, 9);
  png_set_compression_strategy(png, Z_DEFAULT_STRATEGY);
  png_set_compression_window_bits(png, 15);
  png_set_compression_mem_level(png, 8);
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int y = 0; y < h; ++y)
    rows[size_t(y)] = &image[size_t(y) * size_t(w) * 3];
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(out) == 0 ? 0 : 1;
}
