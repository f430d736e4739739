#!/usr/bin/env bash
# Installs the language runtimes sandboxd's shipped language files (policy/languages/*.toml)
# use, from Debian 12's packages. Idempotent: only missing packages are installed. Run as root.
#   scripts/install-runtimes.sh              every language
#   scripts/install-runtimes.sh java go r    only these (language names from policy/languages)
#   scripts/install-runtimes.sh --list       the languages and their packages
# Everything lands under /usr (and the few /etc and /var/lib paths the language files bind);
# nothing from pyenv, rustup or other per-user installs is used by the jails.
# All languages: about 550 MB to download, 2 GB installed, 2-4 minutes on a fast mirror.
set -euo pipefail

declare -A packages=(
    [python]="python3"
    [pypy]="pypy3"
    [javascript]="nodejs"
    [typescript]="nodejs node-typescript"
    [c]="gcc libc6-dev"
    [cpp]="g++"
    [csharp]="mono-mcs mono-runtime libmono-system-numerics4.0-cil"
    [d]="ldc"
    [go]="golang-go"
    # javatuples: MultiPL-E's Java programs import it; the language file puts it on the class path.
    [java]="default-jdk-headless libjavatuples-java"
    [kotlin]="kotlin default-jdk-headless"
    [scala]="scala default-jdk-headless"
    [clojure]="clojure default-jdk-headless"
    # The unit-test libraries MultiPL-E's programs in Lua, Perl and Ruby load.
    [lua]="lua5.4 lua-unit"
    [php]="php-cli"
    [perl]="perl libtest-deep-perl"
    [r]="r-base-core"
    [ruby]="ruby ruby-test-unit"
    [racket]="racket"
    [rust]="rustc"
    [bash]="bash"
    [haskell]="ghc"
    [ocaml]="ocaml-nox"
    [common-lisp]="sbcl"
    [scheme]="guile-3.0"
    [fortran]="gfortran"
    [pascal]="fp-compiler"
    [cobol]="gnucobol"
    [tcl]="tcl"
    [elixir]="elixir erlang-nox"
    [erlang]="erlang-nox"
    [prolog]="swi-prolog-nox"
    [nim]="nim"
)
# Language files whose runtime Debian 12 does not package: they stay "unavailable".
declare -A not_packaged=(
    [julia]="no julia package in Debian 12"
    [swift]="no Swift package in Debian 12 (swiftlang arrives in later releases)"
)

if [[ ${1:-} == --list ]]; then
    for lang in $(printf '%s\n' "${!packages[@]}" | sort); do printf '%-12s %s\n' "$lang" "${packages[$lang]}"; done
    for lang in $(printf '%s\n' "${!not_packaged[@]}" | sort); do printf '%-12s (%s)\n' "$lang" "${not_packaged[$lang]}"; done
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-runtimes.sh: run as root" >&2
    exit 1
fi

languages=("$@")
if ((${#languages[@]} == 0)); then
    mapfile -t languages < <(printf '%s\n' "${!packages[@]}" | sort)
fi

wanted=()
for lang in "${languages[@]}"; do
    if [[ -n ${not_packaged[$lang]:-} ]]; then
        echo "install-runtimes.sh: $lang: ${not_packaged[$lang]}; it stays unavailable" >&2
        continue
    fi
    if [[ -z ${packages[$lang]:-} ]]; then
        echo "install-runtimes.sh: unknown language '$lang' (see --list)" >&2
        exit 2
    fi
    read -r -a pkgs <<< "${packages[$lang]}"
    wanted+=("${pkgs[@]}")
done

missing=()
for p in $(printf '%s\n' "${wanted[@]}" | sort -u); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "runtimes of ${#languages[@]} languages are installed"
    exit 0
fi

echo "installing: ${missing[*]}"
# Another apt (unattended upgrades, a parallel install) may hold the lock for a while.
apt_get() {
    for attempt in $(seq 1 60); do
        if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@"; then return 0; fi
        echo "apt-get $1 failed (attempt $attempt); retrying in 10 s" >&2
        sleep 10
    done
    return 1
}
apt_get update
apt_get install -y --no-install-recommends "${missing[@]}"
