" kiln build files: indentation by brackets, two spaces a level, as kiln fmt
" lays them out. Brackets opened on one line count once; a closing bracket
" goes back to the indentation of the line that opened it; a line that goes
" on after `=` or a binary operator (or starts with one) is one step deeper.
" Heredoc bodies and block comments keep their indentation.

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal autoindent nosmartindent nocindent
" Keep the tabs of a heredoc body that = leaves where it is.
setlocal preserveindent
setlocal indentexpr=KilnIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],0=&&,0=\|\|,!^F,o,O
let b:undo_indent = 'setlocal autoindent< preserveindent< smartindent< cindent< indentexpr< indentkeys<'

if exists('*KilnIndent')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

function! s:InText(lnum, col) abort
  let l:name = synIDattr(synID(a:lnum, a:col, 0), 'name')
  return l:name =~# 'kiln\%(String\|RawString\|Escape\|BadEscape\|Comment\|Todo\|Heredoc\)'
endfunction

" The line with its strings, comments and heredoc openers removed.
function! s:Code(lnum) abort
  let l:line = getline(a:lnum)
  let l:line = substitute(l:line, '<<-\=\h[[:alnum:]_-]*\s*$', '""', '')
  let l:line = substitute(l:line, '"\%(\\.\|[^"\\]\)*"', '""', 'g')
  let l:line = substitute(l:line, "'[^']*'", "''", 'g')
  let l:line = substitute(l:line, '/\*.\{-}\*/', '', 'g')
  let l:line = substitute(l:line, '\s*\%(#\|//\).*$', '', '')
  return l:line
endfunction

let s:op_end = '\%(=\|==\|!=\|<=\|>=\|&&\|||\|[-+*/%<>?:]\)\s*$'
let s:op_start = '^\s*\%(&&\|||\|==\|!=\|[-+*%?:]\|/[/*]\@!\)'

" Whether line lnum goes on from the line before it: that line ends with `=`
" or a binary operator, or this one starts with an operator.
function! s:Continues(lnum) abort
  if getline(a:lnum) =~# s:op_start
    return 1
  endif
  let l:p = s:PrevCode(a:lnum)
  return l:p > 0 && s:Code(l:p) =~# s:op_end
endfunction

" The previous line that is code: not blank, not in a heredoc or block comment.
function! s:PrevCode(lnum) abort
  let l:p = prevnonblank(a:lnum - 1)
  while l:p > 0
    let l:name = synIDattr(synID(l:p, 1, 0), 'name')
    if l:name !~# '^kiln\%(Heredoc\|HeredocDelim\|Comment\)$'
          \ || l:name ==# 'kilnComment' && getline(l:p) =~# '^\s*\%(#\|//\)'
      return l:p
    endif
    " Inside a heredoc body (its terminator line included): go to its start.
    let l:p = prevnonblank(l:p - 1)
  endwhile
  return 0
endfunction

" [brackets a line leaves open, column of the last closing bracket that closes
" one an earlier line opened (0: none)], strings and comments left out.
function! s:Scan(lnum) abort
  let l:line = getline(a:lnum)
  let l:open = 0
  let l:early = 0
  let l:i = match(l:line, '[][{}()]')
  while l:i >= 0
    if !s:InText(a:lnum, l:i + 1)
      if l:line[l:i] =~# '[[{(]'
        let l:open += 1
      elseif l:open > 0
        let l:open -= 1
      else
        let l:early = l:i + 1
      endif
    endif
    let l:i = match(l:line, '[][{}()]', l:i + 1)
  endwhile
  return [l:open, l:early]
endfunction

" The indentation of the line that opened the bracket closed at (lnum, col).
function! s:OpenerIndent(lnum, col) abort
  let l:save = getpos('.')
  call cursor(a:lnum, a:col)
  let l:ch = getline(a:lnum)[a:col - 1]
  let l:pairs = {'}': ['{', '}'], ']': ['\[', '\]'], ')': ['(', ')']}
  let [l:o, l:c] = l:pairs[l:ch]
  let l:m = searchpair(l:o, '', l:c, 'bW', 's:InText(line("."), col("."))')
  let l:ind = l:m > 0 ? s:Owner(l:m) : -1
  call setpos('.', l:save)
  return l:ind
endfunction

" The indentation of the statement line lnum belongs to: a continuation line
" counts as the line it continues.
function! s:BaseIndent(lnum) abort
  let l:l = a:lnum
  while s:Continues(l:l)
    let l:p = s:PrevCode(l:l)
    if l:p == 0 || s:Scan(l:p) != [0, 0]
      break
    endif
    let l:l = l:p
  endwhile
  return indent(l:l)
endfunction

" The indentation of the line lnum belongs to: the opener of the last bracket
" it closes that an earlier line opened (`  b) {` belongs to `f(a,`), else the
" statement it continues, else itself.
function! s:Owner(lnum) abort
  let l:early = s:Scan(a:lnum)[1]
  let l:ind = l:early > 0 ? s:OpenerIndent(a:lnum, l:early) : -1
  return l:ind >= 0 ? l:ind : s:BaseIndent(a:lnum)
endfunction

function! KilnIndent(lnum) abort
  let l:sw = shiftwidth()
  let l:name = synIDattr(synID(a:lnum, 1, 0), 'name')
  if l:name =~# '^kiln\%(Heredoc\|HeredocDelim\)$'
    return -1
  endif
  " The inner lines of a block comment stay where they are.
  if l:name ==# 'kilnComment' && getline(a:lnum) !~# '^\s*\%(#\|//\|/\*\)'
    return -1
  endif
  let l:cur = getline(a:lnum)
  " A closing bracket first on the line: the opener's line's indentation.
  let l:m = matchend(l:cur, '^\s*[}\])]')
  if l:m > 0
    let l:ind = s:OpenerIndent(a:lnum, l:m)
    if l:ind >= 0
      return l:ind
    endif
  endif
  let l:p = s:PrevCode(a:lnum)
  if l:p == 0
    return 0
  endif
  let l:code = s:Code(l:p)
  let l:open = s:Scan(l:p)[0]
  " The line the previous line belongs to: the opener of the last bracket it
  " closed that an earlier line opened, or itself.
  let l:owner = s:Owner(l:p)
  if l:open > 0
    return l:owner + l:sw
  endif
  if s:Scan(l:p)[1] > 0
    return l:owner
  endif
  " A continuation line: one step deeper than the statement it continues.
  if l:code =~# s:op_end || l:cur =~# s:op_start
    return s:BaseIndent(l:p) + l:sw
  endif
  return s:BaseIndent(l:p)
endfunction

let &cpo = s:cpo_save
unlet s:cpo_save
