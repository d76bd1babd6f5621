#!/usr/bin/env bash
# libsaf.so exports exactly the public API: every function declared in
# include/saf/*.h, each under the version SAF_0, and nothing else (no
# internal saf_* helper, no symbol of the libraries it links), with the
# soname libsaf.so.0. Also: <saf/saf.h> includes every header, and the
# static libsaf.a defines every function. The headers are read here by a
# parser of this test's own, not scripts/api-symbols (which makes the
# version script), so a slip in one shows against the other.
set -uo pipefail
SRC=${SAF_SOURCE_DIR:?} LIB=${SAF_LIB_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }

so=$LIB/libsaf.so.0
check "libsaf.so.0 built" test -f "$so"
check "soname libsaf.so.0" bash -c "readelf -d '$so' | grep -q 'SONAME.*\[libsaf.so.0\]'"

# The functions the headers declare: comments and preprocessor lines out,
# then each declaration (up to ';' or '{') whose first call-shaped name
# is saf_*, typedefs (function pointer types) aside.
python3 - "$SRC"/include/saf/*.h > "$T/api" <<'PY'
import re, sys
names = set()
for path in sys.argv[1:]:
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', ' ', text, flags=re.M)
    for stmt in re.split(r'[;{}]', text):
        stmt = stmt.strip()
        if not stmt or stmt.startswith(('typedef', 'static')):
            continue
        m = re.search(r'\b([A-Za-z_]\w*)\s*\(', stmt)
        if m and m.group(1).startswith('saf_'):
            names.add(m.group(1))
print('\n'.join(sorted(names)))
PY
nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sort > "$T/exported"
check "headers declare functions (parser works)" test "$(wc -l < "$T/api")" -gt 100

# Every exported symbol is public and versioned SAF_0.
leaks=$(sed 's/@@SAF_0$//' "$T/exported" | comm -13 "$T/api" -)
check "no symbol beyond the headers' functions is exported" test -z "$leaks"
[[ -n $leaks ]] && echo "# exported but not declared in include/saf/ (internal, or missing from a header):" && echo "$leaks" | sed 's/^/#   /'
unversioned=$(grep -v '@@SAF_0$' "$T/exported")
check "every export has the version SAF_0" test -z "$unversioned"
[[ -n $unversioned ]] && echo "$unversioned" | sed 's/^/#   unversioned: /'

# Every declared function is exported: defined in one of libsaf's parts.
missing=$(sed 's/@@SAF_0$//' "$T/exported" | comm -23 "$T/api" -)
check "every function of include/saf/*.h is exported" test -z "$missing"
[[ -n $missing ]] && echo "$missing" | sed 's/^/#   declared, not in libsaf.so (is its library in SAF_LIB_PARTS, src\/CMakeLists.txt?): /'

# <saf/saf.h> brings every public header (directly or through another).
for h in "$SRC"/include/saf/*.h; do
  b=$(basename "$h")
  [[ $b == saf.h ]] && continue
  grep -q "#include \"saf/$b\"" "$SRC"/include/saf/saf.h "$SRC"/include/saf/tls.h ||
    { echo "#   saf/$b is not included by <saf/saf.h>: add it there"; echo "$b" >> "$T/noumbrella"; }
done
check "<saf/saf.h> includes every public header" test ! -s "$T/noumbrella"
# The compiler agrees: saf.h alone declares every function.
printf '#include <saf/saf.h>\n' > "$T/u.c"
while read -r f; do printf 'void *p_%s = (void *)%s;\n' "$f" "$f"; done < "$T/api" >> "$T/u.c"
check "<saf/saf.h> compiles alone and declares them all" cc -std=gnu11 -Wall -Werror -I"$SRC/include" -c "$T/u.c" -o "$T/u.o"

# The static library defines them all too.
nm --defined-only -g "$LIB/libsaf.a" 2>/dev/null | awk 'NF==3 && $2 ~ /[TW]/ {print $3}' | sort -u > "$T/static"
nostatic=$(comm -23 "$T/api" "$T/static")
check "libsaf.a defines every public function" test -z "$nostatic"
[[ -n $nostatic ]] && echo "$nostatic" | sed 's/^/#   not in libsaf.a: /'

echo "$passes passed, $fails failed ($(wc -l < "$T/api") public functions)"
[[ $fails -eq 0 ]]
