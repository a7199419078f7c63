" kiln build files: comments, `:make` through `kiln lint`.

if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

let s:cpo_save = &cpo
set cpo&vim

setlocal commentstring=#\ %s
setlocal comments=:#,://,s1:/*,mb:*,ex:*/
setlocal formatoptions-=t formatoptions+=croql
setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=8
setlocal iskeyword=@,48-57,_,192-255,-
setlocal suffixesadd=.img

" :make lints the file; errors go to the quickfix list.
" `kiln lint --diagnostics=short` prints  FILE:LINE:COL: error: MESSAGE [E1234]
setlocal makeprg=kiln\ lint\ --diagnostics=short\ %:S
setlocal errorformat=%f:%l:%c:\ %trror:\ %m,%f:%l:%c:\ %tarning:\ %m,%f:%l:%c:\ %m

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< expandtab< shiftwidth< softtabstop< tabstop< iskeyword< suffixesadd< makeprg< errorformat<'

let &cpo = s:cpo_save
unlet s:cpo_save
