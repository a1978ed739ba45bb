// `volleyctl completion bash`: commands, their subcommands and options, and the kinds of
// suspend/resume/bounce. Install: volleyctl completion bash > /etc/bash_completion.d/volleyctl
#include "ctl/commands.hpp"

namespace volley::ctl {

std::string bash_completion() {
  return R"bash(# bash completion for volleyctl (volleyctl completion bash)
_volleyctl() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
  local global="--url --key --cacert --timeout --json --help"
  local commands="queues suspend resume bounce message suppressions events doctor top reload completion"
  local cmd="" sub="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --url|--key|--cacert|--timeout) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
    esac
  done
  if [[ $prev == --cacert ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "$commands $global" -- "$cur")) ;;
    queues) COMPREPLY=($(compgen -W "--domain --pool $global" -- "$cur")) ;;
    suspend) [[ -z $sub ]] && COMPREPLY=($(compgen -W "domain pool source" -- "$cur")) || COMPREPLY=($(compgen -W "--duration --reason $global" -- "$cur")) ;;
    resume) [[ -z $sub ]] && COMPREPLY=($(compgen -W "domain pool source" -- "$cur")) || COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
    bounce) [[ -z $sub ]] && COMPREPLY=($(compgen -W "domain pool" -- "$cur")) || COMPREPLY=($(compgen -W "--reason $global" -- "$cur")) ;;
    suppressions)
      if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "list add remove import export --tenant" -- "$cur"))
      elif [[ $sub == import && $cur != -* ]]; then COMPREPLY=($(compgen -f -- "$cur"))
      else COMPREPLY=($(compgen -W "--reason --description --tenant $global" -- "$cur")); fi ;;
    events) COMPREPLY=($(compgen -W "--follow --type --domain --id --limit --count $global" -- "$cur"))
      [[ $prev == --type ]] && COMPREPLY=($(compgen -W "delivered deferred bounced expired received suppressed async_bounce complaint unsubscribe cancelled" -- "$cur")) ;;
    top) COMPREPLY=($(compgen -W "--iterations --interval $global" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
  esac
}
complete -F _volleyctl volleyctl
)bash";
}

}  // namespace volley::ctl
