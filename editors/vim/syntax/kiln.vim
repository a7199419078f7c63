" Vim syntax file
" Language:    kiln (.img build files, .kvars var-files)
" Maintainer:  the kiln authors
" The word lists between the GENERATED lines come from `kiln doc --json`:
" rewrite them with editors/gen.py, never by hand.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Identifiers may hold a dash after the first character: docker-archive.
syntax iskeyword @,48-57,_,192-255,-
syntax case match

" BEGIN GENERATED
syntax keyword kilnKeyword apply config for from handler hosts image import in
syntax keyword kilnKeyword inventory let object output param role stage test
syntax keyword kilnKeyword use when
syntax keyword kilnConstant true false null
syntax keyword kilnType any bool enum int list map mode path secret string
syntax keyword kilnModule apt apt_repository command copy file group
syntax keyword kilnModule lineinfile local service shell template unarchive
syntax keyword kilnModule user
syntax keyword kilnOutputKind checksum disk docker-archive manifest oci
syntax keyword kilnOutputKind registry tar vagrant
syntax keyword kilnBase busybox debian scratch tarball
syntax keyword kilnFunction basename dirname env format join length lookup
syntax keyword kilnFunction lower range sha256 split upper
" END GENERATED

" An attribute name: an identifier followed by `=` (not `==`). The match
" starts before the name (at the indentation, `{`, `,` or `;`) so that it wins
" over a keyword of the same spelling: `user = "www-data"` in config.
syntax match kilnAttrLead /\%(^\|[{,;]\)\s*\h[[:alnum:]_-]*\ze\s*=\%(=\)\@!/ contains=kilnAttrName
syntax match kilnAttrName /\h[[:alnum:]_-]*/ contained
syntax keyword kilnFacts facts

syntax match kilnNumber /\%([[:alnum:]_-]\)\@<!\%(0[xX]\x\+\|0[oO]\o\+\|\d\+\)\%([[:alnum:]_-]\)\@!/

syntax match kilnOperator /==\|!=\|<=\|>=\|&&\|||\|[=<>!+*%?:]/
syntax match kilnOperator +/\%([/*]\)\@!+

syntax keyword kilnTodo contained TODO FIXME XXX NOTE
syntax match kilnComment /#.*$/ contains=kilnTodo,@Spell
syntax match kilnComment +//.*$+ contains=kilnTodo,@Spell
syntax region kilnComment start=+/\*+ end=+\*/+ contains=kilnTodo,@Spell

syntax cluster kilnExpr contains=kilnKeyword,kilnConstant,kilnType,kilnModule,kilnOutputKind,kilnBase,kilnFunction,kilnFacts,kilnNumber,kilnOperator,kilnString,kilnRawString,kilnInterpBraces,kilnComment

syntax match kilnEscape /\\[ntr\\"$]/ contained
syntax match kilnEscape /\\u{\x\{1,6}}/ contained
syntax match kilnBadEscape /\\\%([ntr\\"$]\|u{\x\{1,6}}\)\@!./ contained
syntax region kilnInterp matchgroup=kilnInterpDelim start=/\${/ end=/}/ contained contains=@kilnExpr
syntax region kilnInterpBraces start=/{/ end=/}/ contained transparent contains=@kilnExpr

" A quoted string ends on its line.
syntax region kilnString start=/"/ skip=/\\\\\|\\"/ end=/"\|$/ oneline contains=kilnEscape,kilnBadEscape,kilnInterp,@Spell
syntax region kilnRawString start=/'/ end=/'\|$/ oneline contains=@Spell

" <<EOT and <<-EOT: the body runs to a line holding only the terminator.
syntax region kilnHeredoc matchgroup=kilnHeredocDelim start=/<<-\=\z(\h[[:alnum:]_-]*\)\s*$/ end=/^\s*\z1\s*$/ contains=kilnInterp

syntax sync fromstart

highlight default link kilnKeyword Keyword
highlight default link kilnConstant Boolean
highlight default link kilnType Type
highlight default link kilnModule Function
highlight default link kilnOutputKind Structure
highlight default link kilnBase Structure
highlight default link kilnFunction Function
highlight default link kilnAttrName Identifier
highlight default link kilnFacts Special
highlight default link kilnNumber Number
highlight default link kilnOperator Operator
highlight default link kilnTodo Todo
highlight default link kilnComment Comment
highlight default link kilnEscape SpecialChar
highlight default link kilnBadEscape Error
highlight default link kilnInterpDelim Delimiter
highlight default link kilnString String
highlight default link kilnRawString String
highlight default link kilnHeredoc String
highlight default link kilnHeredocDelim Delimiter

let b:current_syntax = 'kiln'

let &cpo = s:cpo_save
unlet s:cpo_save
