# sandboxd's bash session driver (docs/sessions.md), run as `bash --norc --noprofile bash_driver.sh`.
#
# Keeps one shell between calls: variables, functions, the working directory and options stay.
# It talks to sandboxd over the socket it gets as stdin, in frames of an ASCII decimal length, a
# newline and a JSON object: {"ready": true, ...} once, then for each {"code": "..."} it evals the
# code and answers {"status": "ok", "exit_code": $?}. The code's stdout and stderr are the jail's
# own, which sandboxd captures; its stdin is /dev/null, and the socket is closed for it, so
# nothing it starts can talk to sandboxd. `exit` ends the shell, and with it the session's state.

exec {__sbx_ctl}<&0 </dev/null

# A JSON string's contents (without the quotes) to its text, escape by escape.
__sbx_unescape() {
    local rest=$1 out='' c ch
    while [[ $rest == *\\* ]]; do
        out+=${rest%%\\*}
        rest=${rest#*\\}
        c=${rest:0:1}
        case $c in
            n) out+=$'\n' ;;
            t) out+=$'\t' ;;
            r) out+=$'\r' ;;
            b) out+=$'\b' ;;
            f) out+=$'\f' ;;
            u) printf -v ch "\\u${rest:1:4}"; out+=$ch; rest=${rest:4} ;;
            *) out+=$c ;;  # \" \\ \/
        esac
        rest=${rest:1}
    done
    __sbx_text=$out$rest
}

__sbx_send() {
    LC_ALL=C printf '%d\n%s' "${#1}" "$1" >&"$__sbx_ctl"
}

__sbx_send '{"ready":true,"version":"'"${BASH_VERSION}"'"}'
while LC_ALL=C read -r -u "$__sbx_ctl" __sbx_length; do
    [[ $__sbx_length =~ ^[0-9]+$ ]] || exit 70
    LC_ALL=C read -r -d '' -N "$__sbx_length" -u "$__sbx_ctl" __sbx_frame
    # sandboxd sends exactly {"code":"..."}.
    __sbx_frame=${__sbx_frame#'{"code":"'}
    __sbx_unescape "${__sbx_frame%'"}'}"
    eval "$__sbx_text" {__sbx_ctl}<&-
    __sbx_send '{"status":"ok","exit_code":'"$?"'}'
done
