// Stands in for libpng's header where the core target must build without it (the package
// test's core consumer, the core headers' self-compile checks): this folder comes first on
// the include path, so any #include <png.h> reached from there stops the build here.
#error "png.h included: the core (vaelib::vaelib, vaelib/vae.hpp) must not need libpng; that belongs to vaelib::io"
