# bash completion for linkdoctor(1)                          -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/linkdoctor; needs the
# bash-completion package's helpers (_init_completion, _filedir).
#
# Diagnosis IDs (explain) and profiles (--profile) come from the linkdoctor
# being completed, at completion time, so they are the ones it knows. The
# option lists below are the command-line contract; tests/doc_check.py fails
# when a --help prints an option that is missing here.

# What a run of the linkdoctor being completed ($1) prints for "$2 ...", no errors.
_linkdoctor_ask() {
    local bin=$1
    shift
    # ~ as typed is not expanded by bash in words[0].
    [[ $bin == "~"* ]] && bin=${bin/#\~/$HOME}
    "$bin" "$@" 2>/dev/null
}

_linkdoctor() {
    local cur prev words cword split
    _init_completion -s || return

    local bin=${words[0]} cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -*) ;;
        *)
            cmd=${words[i]}
            break
            ;;
        esac
    done

    # Options that take a value: complete the value.
    case $prev in
    --profile)
        COMPREPLY=($(compgen -W "$(_linkdoctor_ask "$bin" profiles |
            awk '/^[A-Za-z0-9]/ { print $1 }')" -- "$cur"))
        return
        ;;
    --capture)
        COMPREPLY=($(compgen -W "auto on off" -- "$cur"))
        return
        ;;
    --cloud)
        COMPREPLY=($(compgen -W "auto aws gcp azure none" -- "$cur"))
        return
        ;;
    --format)
        COMPREPLY=($(compgen -W "text json markdown nagios prometheus" -- "$cur"))
        return
        ;;
    --cloud-resolver)
        COMPREPLY=($(compgen -W "none" -- "$cur"))
        return
        ;;
    --warning | --critical)
        COMPREPLY=($(compgen -W "connect= total=" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
        ;;
    --interface)
        COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur"))
        return
        ;;
    --user)
        COMPREPLY=($(compgen -u -- "$cur"))
        return
        ;;
    --cacert)
        _filedir '@(pem|crt|cer)'
        return
        ;;
    --rules)
        _filedir json
        return
        ;;
    --targets)
        _filedir
        [[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
        return
        ;;
    -o | --output)
        _filedir
        return
        ;;
    --save-json)
        _filedir json
        return
        ;;
    --endpoint-ip | --dns-server | --expect-status | --sni | --cert-warn-days | \
        --connect-timeout | --timeout | --imds-endpoint | --expect-az-id | --watch | \
        --target | --listen | --max-probes | --allow-target)
        return # a value only the user knows
        ;;
    esac
    $split && return

    # Options every diagnosing command takes as the defaults of its targets.
    local target_opts="--profile --endpoint-ip --dns-server --expect-status --sni
        --cert-warn-days --expect-az-id --cloud --imds-endpoint --cloud-resolver --rules
        --cacert --capture --interface --user --connect-timeout --timeout --redact
        --verbose -v --help -h"
    local opts
    case $cmd in
    "")
        COMPREPLY=($(compgen -W "check analyze serve show rules explain profiles
            --version --help" -- "$cur"))
        return
        ;;
    check)
        opts="$target_opts --targets --watch --format --output -o --save-json --warning
            --critical"
        ;;
    serve)
        opts="$target_opts --listen --max-probes --allow-target"
        ;;
    analyze)
        opts="--target --cloud --rules --format --output -o --save-json --warning --critical
            --redact --verbose -v --help -h"
        [[ $cur != -* ]] && _filedir '@(pcap|pcapng|cap|dmp)' && return
        ;;
    show)
        opts="--format --output -o --redact --help -h"
        [[ $cur != -* ]] && _filedir json && return
        ;;
    rules)
        local action="" j
        for ((j = i + 1; j < cword; j++)); do
            [[ ${words[j]} != -* ]] && action=${words[j]} && break
        done
        case $action in
        "") COMPREPLY=($(compgen -W "list lint facts --help" -- "$cur")) ;;
        lint) _filedir json ;;
        list) COMPREPLY=($(compgen -W "--rules" -- "$cur")) ;;
        esac
        return
        ;;
    explain)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--rules --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_linkdoctor_ask "$bin" rules list |
                awk 'NR > 1 { print $1 }')" -- "$cur"))
        fi
        return
        ;;
    profiles)
        COMPREPLY=($(compgen -W "--help" -- "$cur"))
        return
        ;;
    *)
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
} &&
    complete -F _linkdoctor linkdoctor

# ex: filetype=sh
