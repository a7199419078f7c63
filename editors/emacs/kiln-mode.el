;;; kiln-mode.el --- major mode for kiln build files  -*- lexical-binding: t; -*-

;; The word lists between the GENERATED lines come from `kiln doc --json':
;; rewrite them with editors/gen.py, never by hand.

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
  '("checksum" "disk" "docker-archive" "manifest" "oci" "tar" "vagrant")
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

(provide 'kiln-mode)
;;; kiln-mode.el ends here
