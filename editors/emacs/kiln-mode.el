;;; kiln-mode.el --- major mode for kiln build files  -*- lexical-binding: t; -*-

;; Keywords: languages
;; Package-Requires: ((emacs "26.1"))

;;; Commentary:

;; Font-lock, indentation by brackets (two spaces, as `kiln fmt' lays files
;; out), comments (# // /* */), heredocs, `M-x compile' with
;; `kiln lint --diagnostics=short', and the language server `kiln lsp'
;; through eglot.  Install: see docs/editors.md.
;;
;; The word lists between the GENERATED lines come from `kiln doc --json':
;; rewrite them with editors/gen.py, never by hand.

;;; Code:

(require 'rx)

(defgroup kiln nil
  "Editing kiln build files."
  :group 'languages
  :prefix "kiln-")

(defcustom kiln-indent-offset 2
  "Columns of indentation for each open bracket."
  :type 'integer
  :safe #'integerp)

(defcustom kiln-program "kiln"
  "The kiln command."
  :type 'string)

;; BEGIN GENERATED
(defconst kiln-mode-keywords
  '("apply" "config" "for" "from" "handler" "hosts" "image" "import" "in" "inventory" "let" "object" "output" "param" "role" "stage" "test" "use" "when")
  "kiln's keywords, from kiln doc --json.")
(defconst kiln-mode-constants
  '("true" "false" "null")
  "kiln's constants, from kiln doc --json.")
(defconst kiln-mode-types
  '("any" "bool" "enum" "int" "list" "map" "mode" "path" "secret" "string")
  "kiln's types, from kiln doc --json.")
(defconst kiln-mode-modules
  '("apt" "apt_repository" "command" "copy" "file" "group" "lineinfile" "local" "service" "shell" "template" "unarchive" "user")
  "kiln's modules, from kiln doc --json.")
(defconst kiln-mode-outputs
  '("checksum" "disk" "docker-archive" "manifest" "oci" "registry" "tar" "vagrant")
  "kiln's outputs, from kiln doc --json.")
(defconst kiln-mode-bases
  '("busybox" "debian" "scratch" "tarball")
  "kiln's bases, from kiln doc --json.")
(defconst kiln-mode-functions
  '("basename" "dirname" "env" "format" "join" "length" "lookup" "lower" "range" "sha256" "split" "upper")
  "kiln's functions, from kiln doc --json.")
(defconst kiln-mode-attributes
  '("address" "become" "cmd" "connection" "description" "entrypoint" "env" "expose" "identity_file" "ignore_errors" "known_hosts" "labels" "notify" "parallel" "password" "port" "stop_signal" "user" "vars" "volumes" "workdir")
  "kiln's attributes, from kiln doc --json.")
;; END GENERATED

;;; Syntax

(defvar kiln-mode-syntax-table
  (let ((table (make-syntax-table)))
    ;; # and // to the end of the line (style b), /* */ (style a).
    (modify-syntax-entry ?# "< b" table)
    (modify-syntax-entry ?/ ". 124b" table)
    (modify-syntax-entry ?* ". 23" table)
    (modify-syntax-entry ?\n "> b" table)
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?' "\"" table)
    (modify-syntax-entry ?\\ "\\" table)
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?- "_" table)
    (modify-syntax-entry ?$ "." table)
    (modify-syntax-entry ?= "." table)
    (modify-syntax-entry ?< "." table)
    (modify-syntax-entry ?> "." table)
    (modify-syntax-entry ?& "." table)
    (modify-syntax-entry ?| "." table)
    (modify-syntax-entry ?+ "." table)
    (modify-syntax-entry ?% "." table)
    (modify-syntax-entry ?! "." table)
    (modify-syntax-entry ?? "." table)
    (modify-syntax-entry ?: "." table)
    table)
  "Syntax table of `kiln-mode'.")

;; `syntax-propertize-rules' reads the heredoc regexp when the macro expands.
(eval-and-compile
  (defconst kiln--ident-re "[A-Za-z_][A-Za-z0-9_-]*"
    "An identifier: a dash may follow the first character.")

  (defconst kiln--heredoc-re
    (concat "<<-?\\(" kiln--ident-re "\\)[ \t]*$")
    "The opener of a heredoc; group 1 is its terminator."))

(defun kiln--propertize-heredoc ()
  "Mark the heredoc whose opener was just matched as a string, up to its terminator.
Point ends after the terminator, or after the opener when there is none."
  (let ((opener (match-beginning 0))
        (term (match-string 1))
        (eol (match-end 0)))
    (unless (nth 8 (save-excursion (syntax-ppss opener)))
      (goto-char eol)
      (when (re-search-forward
             (concat "^[ \t]*" (regexp-quote term) "[ \t]*$") nil t)
        (let ((close (1- (match-beginning 0))))
          (when (> close eol)
            ;; A string fence on the newline after the opener and on the
            ;; newline before the terminator: the body is one string.
            (put-text-property eol (1+ eol) 'syntax-table (string-to-syntax "|"))
            (put-text-property close (1+ close) 'syntax-table (string-to-syntax "|"))
            (put-text-property opener (point) 'syntax-multiline t)))))))

(defun kiln--syntax-propertize (start end)
  "Mark heredocs between START and END."
  (goto-char start)
  (funcall
   (syntax-propertize-rules
    (kiln--heredoc-re (0 (ignore (kiln--propertize-heredoc)))))
   start end))

;;; Font-lock

(defun kiln--words (words)
  "A regexp matching one of WORDS as a whole symbol."
  (concat "\\_<" (regexp-opt words t) "\\_>"))

(defun kiln--match-interpolation (limit)
  "Find the next ${ ... } before LIMIT in a double-quoted string or a heredoc."
  (let (found)
    (while (and (not found) (re-search-forward "\\${\\([^}\n]*\\)}" limit t))
      (let* ((ppss (save-excursion (syntax-ppss (match-beginning 0))))
             (start (nth 8 ppss)))
        (when (and (nth 3 ppss) start
                   (not (eq (char-after start) ?')))
          (setq found t))))
    found))

(defconst kiln-font-lock-keywords
  `((,(kiln--words kiln-mode-keywords) . font-lock-keyword-face)
    (,(kiln--words kiln-mode-constants) . font-lock-constant-face)
    (,(kiln--words kiln-mode-types) . font-lock-type-face)
    (,(concat "^[ \t]*\\(?:[{,;][ \t]*\\)?\\(" kiln--ident-re "\\)[ \t]*=[^=]")
     1 font-lock-variable-name-face)
    (,(concat "[{,;][ \t]*\\(" kiln--ident-re "\\)[ \t]*=[^=]")
     1 font-lock-variable-name-face)
    (,(kiln--words kiln-mode-modules) . font-lock-builtin-face)
    (,(kiln--words kiln-mode-outputs) . font-lock-builtin-face)
    (,(kiln--words kiln-mode-bases) . font-lock-builtin-face)
    (,(concat (kiln--words kiln-mode-functions) "[ \t]*(")
     1 font-lock-function-name-face)
    ("\\_<facts\\_>" . font-lock-constant-face)
    ("\\_<\\(?:0[xX][0-9A-Fa-f]+\\|0[oO][0-7]+\\|[0-9]+\\)\\_>" . font-lock-constant-face)
    (kiln--match-interpolation
     (0 font-lock-preprocessor-face t)))
  "Highlighting of `kiln-mode'.")

;;; Indentation

(defun kiln--owner-indent (open)
  "The indentation of the line holding the bracket at OPEN.
A line that first closes a bracket an earlier line opened belongs to
that earlier line: `  b) {' indents as `f(a,' does."
  (save-excursion
    (goto-char open)
    (let* ((bol (line-beginning-position))
           (ppss (syntax-ppss bol))
           (scan (parse-partial-sexp bol open nil nil ppss))
           (low (nth 6 scan)))
      (if (and (< low (car ppss)) (>= low 0))
          (kiln--owner-indent (nth low (nth 9 ppss)))
        (current-indentation)))))

(defconst kiln--op-end-re
  "\\(?:[=!<>]=\\|&&\\|||\\|[-=+*/%<>?:]\\)[ \t]*"
  "A line that ends with `=' or a binary operator goes on on the next line.")

(defconst kiln--op-start-re
  "[ \t]*\\(?:&&\\|||\\|[=!]=\\|[-+*%?:]\\|/[^/*]\\)"
  "A line that starts with a binary operator goes on from the line before.")

(defun kiln--continues-p ()
  "Whether the line at point goes on from the previous line of code."
  (save-excursion
    (beginning-of-line)
    (or (looking-at kiln--op-start-re)
        (progn
          (forward-comment (- (point)))
          (and (not (bobp))
               (let ((c (nth 8 (syntax-ppss))))
                 (when c (goto-char c))
                 (skip-chars-backward " \t")
                 (looking-back kiln--op-end-re (line-beginning-position))))))))

(defun kiln--heredoc-end-p (bol)
  "Whether the line at BOL is a heredoc's terminator: the newline before it
closes the heredoc's string."
  (and (> bol (point-min))
       (equal (get-text-property (1- bol) 'syntax-table) (string-to-syntax "|"))
       (nth 3 (save-excursion (syntax-ppss (1- bol))))))

(defun kiln-indent-line ()
  "Indent the current line as `kiln fmt' does."
  (interactive)
  (syntax-propertize (line-end-position))
  (let ((ppss (save-excursion (syntax-ppss (line-beginning-position)))))
    (if (or (nth 3 ppss) (nth 4 ppss)
            (kiln--heredoc-end-p (line-beginning-position)))
        ;; A heredoc body and its terminator, the inside of a block comment:
        ;; they stay as they are.
        'noindent
      (let ((target
             (save-excursion
               (back-to-indentation)
               (let ((open (nth 1 (syntax-ppss))))
                 (cond
                  ((null open)
                   (if (kiln--continues-p) kiln-indent-offset 0))
                  ((looking-at "[]})]") (kiln--owner-indent open))
                  (t (+ (kiln--owner-indent open) kiln-indent-offset
                        (if (kiln--continues-p) kiln-indent-offset 0))))))))
        (if (<= (current-column) (current-indentation))
            (indent-line-to target)
          (save-excursion (indent-line-to target)))))))

;;; Lint, compile and the language server

(defconst kiln-compilation-regexp
  '(kiln "^\\([^: \n][^:\n]*\\):\\([0-9]+\\):\\([0-9]+\\): \\(?:error\\|\\(warning\\)\\): "
         1 2 3 (4))
  "`kiln lint --diagnostics=short' prints FILE:LINE:COL: error: MESSAGE [E1234].")

(with-eval-after-load 'compile
  (defvar compilation-error-regexp-alist)
  (defvar compilation-error-regexp-alist-alist)
  (add-to-list 'compilation-error-regexp-alist-alist kiln-compilation-regexp)
  (add-to-list 'compilation-error-regexp-alist 'kiln))

(with-eval-after-load 'eglot
  (defvar eglot-server-programs)
  (add-to-list 'eglot-server-programs '(kiln-mode "kiln" "lsp")))

(defun kiln-lint ()
  "Lint the current file with `kiln lint' in a compilation buffer."
  (interactive)
  (compile (concat kiln-program " lint --diagnostics=short "
                   (shell-quote-argument (buffer-file-name)))))

;;;###autoload
(define-derived-mode kiln-mode prog-mode "kiln"
  "Major mode for kiln build files (.img, .kvars)."
  :syntax-table kiln-mode-syntax-table
  (setq-local comment-start "# ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "\\(?:#+\\|//+\\|/\\*+\\)[ \t]*")
  (setq-local indent-tabs-mode nil)
  (setq-local tab-width 8)
  (setq-local indent-line-function #'kiln-indent-line)
  (setq-local electric-indent-chars (append "{}[]()" electric-indent-chars))
  (setq-local syntax-propertize-function #'kiln--syntax-propertize)
  ;; Re-propertize a heredoc whole: its two fences are one unit.
  (add-hook 'syntax-propertize-extend-region-functions
            #'syntax-propertize-multiline 'append 'local)
  (setq-local font-lock-defaults '(kiln-font-lock-keywords))
  (setq-local compile-command
              (concat kiln-program " lint --diagnostics=short "
                      (if buffer-file-name
                          (shell-quote-argument (file-name-nondirectory buffer-file-name))
                        ""))))

(defconst kiln--first-code-re
  (concat "\\(?:param\\|let\\|import\\|role\\|image\\|hosts\\|inventory"
          "\\|apply\\|config\\|output\\)\\_>")
  "How the first line of code of a kiln file starts.")

;;;###autoload
(defun kiln-file-p ()
  "Whether the buffer is a kiln file: a .img file (also a disk image
extension) whose first line of code starts with a kiln keyword."
  (and buffer-file-name
       (string-match-p "\\.img\\'" buffer-file-name)
       (save-excursion
         (goto-char (point-min))
         (let ((head (buffer-substring-no-properties
                      (point-min) (min (point-max) (+ (point-min) 4096)))))
           (and (not (string-match-p "\0" head))
                (with-syntax-table kiln-mode-syntax-table
                  (forward-comment (buffer-size))
                  (looking-at kiln--first-code-re)))))))

;;;###autoload
(add-to-list 'magic-mode-alist '(kiln-file-p . kiln-mode))
;;;###autoload
(add-to-list 'auto-mode-alist '("\\.kvars\\'" . kiln-mode))

(provide 'kiln-mode)
;;; kiln-mode.el ends here
