# bash completion for kiln: commands, each command's options (read from
# `kiln help COMMAND`, so they follow the installed kiln), .img and plan files,
# image names after -only= and -except=, host groups after --limit= (read with
# `kiln graph` from the .img files already on the command line).

_kiln_options()
{
	# "  -i, -inventory=FILE  text" -> -i -inventory=
	kiln help "$1" 2>/dev/null | awk '
		/^options:/ { on = 1; next }
		on && /^[^ ]/ { on = 0 }
		on && /^  -/ {
			sub(/^  /, "")
			n = split($0, part, /  +/)
			m = split(part[1], opt, /, */)
			for (i = 1; i <= m; i++) {
				o = opt[i]
				sub(/ .*/, "", o)
				if (o ~ /=/) sub(/=.*/, "=", o)
				print o
			}
		}'
}

_kiln_names()
{
	# $1: image or hosts; the rest: the words of the command line
	local kind=$1 w
	shift
	local files=()
	for w in "$@"; do
		case $w in *.img) [ -f "$w" ] && files+=("$w") ;; esac
	done
	[ ${#files[@]} -gt 0 ] || return
	kiln graph "${files[@]}" 2>/dev/null |
		sed -n "s/^[[:space:]]*\"$kind \\([^\"]*\\)\" \\[\\(style=bold\\|shape=folder\\)\\];\$/\\1/p"
}

_kiln()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local cmds
	if [ "$COMP_CWORD" -eq 1 ]; then
		cmds=$(kiln --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi
	local cmd=${COMP_WORDS[1]}
	case $cur in
	-only=* | -except=*)
		COMPREPLY=($(compgen -P "${cur%%=*}=" -W "$(_kiln_names image "${COMP_WORDS[@]}")" -- "${cur#*=}"))
		return
		;;
	--limit=*)
		COMPREPLY=($(compgen -P "--limit=" -W "$(_kiln_names hosts "${COMP_WORDS[@]}") all" -- "${cur#*=}"))
		return
		;;
	-var-file=* | -i=* | -inventory=* | --inventory=* | -o=* | --log-file=*)
		COMPREPLY=($(compgen -P "${cur%%=*}=" -f -- "${cur#*=}"))
		return
		;;
	-*)
		COMPREPLY=($(compgen -W "$(_kiln_options "$cmd")" -- "$cur"))
		[ "${COMPREPLY[0]: -1}" = "=" ] && compopt -o nospace 2>/dev/null
		return
		;;
	esac
	case $cmd in
	help) COMPREPLY=($(compgen -W "$(kiln --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')" -- "$cur")) ;;
	doc) COMPREPLY=($(compgen -W "$(kiln doc 2>/dev/null | awk '/^  [a-z]/ { print $1 }')" -- "$cur")) ;;
	*)
		compopt -o filenames 2>/dev/null
		local f
		COMPREPLY=()
		for f in $(compgen -f -- "$cur"); do
			case $f in *.img | *.json | *.kvars) COMPREPLY+=("$f") ;; *) [ -d "$f" ] && COMPREPLY+=("$f") ;; esac
		done
		;;
	esac
}
complete -F _kiln kiln
