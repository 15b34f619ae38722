// Stands in for zlib's header where the core target must build without it (the package
// test's core consumer, the core headers' self-compile checks): this folder comes first on
// the include path, so any #include <zlib.h> reached from there stops the build here.
#error "zlib.h included: the core (vaelib::vaelib, vaelib/vae.hpp) must not need zlib; that belongs to vaelib::io"
