" kiln build files. `.img` is also the extension of disk images, so a `.img`
" file is kiln only when its first lines look like kiln: the first line that
" is not blank or a comment starts with a kiln keyword.

function! s:KilnDetect() abort
  let l:n = 1
  let l:last = min([line('$'), 200])
  let l:in_block = 0
  while l:n <= l:last
    let l:line = getline(l:n)
    let l:n += 1
    " A NUL byte (a newline in the buffer): a binary file.
    if l:line =~# "\n"
      return
    endif
    if l:in_block
      if l:line =~# '\*/'
        let l:in_block = 0
        let l:line = substitute(l:line, '^.\{-}\*/', '', '')
      else
        continue
      endif
    endif
    if l:line =~# '^\s*/\*' && l:line !~# '\*/'
      let l:in_block = 1
      continue
    endif
    let l:line = substitute(l:line, '^\s*/\*.\{-}\*/', '', '')
    if l:line =~# '^\s*$' || l:line =~# '^\s*\%(#\|//\)'
      continue
    endif
    if l:line =~# '^\s*\%(param\|let\|import\|role\|image\|hosts\|inventory\|apply\|config\|output\)\>'
      setfiletype kiln
    endif
    return
  endwhile
endfunction

autocmd BufRead,BufNewFile *.kvars setfiletype kiln
autocmd BufRead *.img call s:KilnDetect()
" A new, empty .img file opened in a text editor is most likely kiln.
autocmd BufNewFile *.img setfiletype kiln
