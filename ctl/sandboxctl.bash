# bash completion for sandboxctl                                    -*- shell-script -*-
_sandboxctl() {
    local cur prev words cword
    _init_completion || return
    local commands="run exec session repl languages policies stats status cancel reload completion"
    local run_opts="--lang --policy --stdin --arg --env --time-limit --cpu-limit --memory-limit --output-limit --pids-limit --tests --stream --json --help"
    local session_opts="--lang --policy --env --idle-timeout --max-lifetime --memory-limit --pids-limit --time-limit --cpu-limit --output-limit --json --help"
    local exec_opts="--policy --stdin --env --time-limit --cpu-limit --memory-limit --output-limit --pids-limit --stream --json --help"

    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --socket) ((i++)) ;;
            -*) ;;
            *) cmd="${words[i]}"; break ;;
        esac
    done

    case "$prev" in
        --socket|--stdin|--tests) _filedir; return ;;
        --lang|-l)
            local langs
            langs=$(sandboxctl languages --json 2>/dev/null | sed -n 's/.*"name": "\([^"]*\)".*/\1/p')
            COMPREPLY=($(compgen -W "$langs" -- "$cur")); return ;;
        --policy)
            local pols
            pols=$(sandboxctl policies --json 2>/dev/null | sed -n 's/^      "name": "\([^"]*\)".*/\1/p')
            COMPREPLY=($(compgen -W "$pols" -- "$cur")); return ;;
        --time-limit|--cpu-limit|--memory-limit|--output-limit|--pids-limit|--arg|--env|--idle-timeout|--max-lifetime|-c|--code) return ;;
        --images-dir) _filedir -d; return ;;
    esac

    case "$cmd" in
        "") COMPREPLY=($(compgen -W "$commands --socket --help --version" -- "$cur")) ;;
        run) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$run_opts" -- "$cur")); else _filedir; fi ;;
        exec) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$exec_opts" -- "$cur")); else COMPREPLY=($(compgen -c -- "$cur")); fi ;;
        languages|policies|stats|reload|status|cancel) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
        repl) COMPREPLY=($(compgen -W "$session_opts --images-dir" -- "$cur")) ;;
        session)
            local sub="" j
            for ((j = i + 1; j < cword; j++)); do
                [[ ${words[j]} != -* ]] && { sub=${words[j]}; break; }
            done
            case "$sub" in
                "") COMPREPLY=($(compgen -W "open exec close list --help" -- "$cur")) ;;
                open) COMPREPLY=($(compgen -W "$session_opts" -- "$cur")) ;;
                exec) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "-c --code --time-limit --cpu-limit --output-limit --images-dir --json --help" -- "$cur")); else _filedir; fi ;;
                close|list) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
            esac ;;
    esac
}
complete -F _sandboxctl sandboxctl
