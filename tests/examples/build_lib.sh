# shellcheck shell=bash
# Sourced by the example tests: installs the build tree into a scratch
# prefix and compiles examples/NAME.c against the *installed* library, the
# way an application would: `pkg-config --cflags --libs saf`, shared, and
# static (libsaf.a, the system libraries still shared).

# examples_install DIR: cmake --install into DIR/prefix; sets PC (the
# folder of saf.pc) and LIBDIR (where libsaf.so.0 is).
examples_install() {
  local d=$1
  cmake --install "${SAF_BUILD_DIR:?}" --prefix "$d/prefix" > "$d/install.log" 2>&1 || { cat "$d/install.log"; return 1; }
  PC=$(dirname "$(find "$d/prefix" -name saf.pc | head -1)")
  LIBDIR=$(dirname "$(find "$d/prefix" -name 'libsaf.so.0' | head -1)")
  [[ -f $PC/saf.pc && -e $LIBDIR/libsaf.so.0 ]]
}

# example_build NAME OUT shared|static: compiles examples/NAME.c with the
# project's strictness (a warning in an example is a bug in it).
example_build() {
  local name=$1 out=$2 kind=$3 flags
  if [[ $kind == static ]]; then
    flags=$(PKG_CONFIG_PATH=$PC pkg-config --static --cflags --libs saf | sed 's/-lsaf /-l:libsaf.a /')
  else
    flags=$(PKG_CONFIG_PATH=$PC pkg-config --cflags --libs saf)
  fi
  # shellcheck disable=SC2086
  # SAF_EXAMPLE_CFLAGS: the sanitizers, when the library was built with them.
  cc -Wall -Wextra -Wconversion -Werror ${SAF_EXAMPLE_CFLAGS:-} "${SAF_SOURCE_DIR:?}/examples/$name.c" $flags -o "$out"
}
