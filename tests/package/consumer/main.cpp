// A user program of the core alone: include the umbrella header, differentiate, print.
#include <iostream>

#include <vaelib/vae.hpp>

// Besides ../forbidden_headers (which fail any #include <zlib.h> / <png.h>): the macros those
// headers define must be absent.
#if defined(ZLIB_VERSION) || defined(PNG_LIBPNG_VER_STRING)
#error "vaelib/vae.hpp brought in zlib or libpng"
#endif

int main() {
  vaelib::Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, 2.0, 3.0});
  tape.backward(vaelib::sum(x * x));
  const auto g = x.grad();
  std::cout << "vaelib " << VAELIB_VERSION_STRING << ": d/dx sum(x * x) = [" << g(0) << ", " << g(1) << ", " << g(2)
            << "]\n";
  return 0;
}
