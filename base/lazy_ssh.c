/*
 * lazy_ssh: libssh loaded on first use. Written by tools/gen-lazy.py from
 * libssh's headers; do not edit: run `tools/gen-lazy.py ssh build` again after
 * calling a function of libssh that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

static struct lazylib lib = LAZYLIB_INIT("libssh.so.4");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

static void *p_sftp_attributes_free;
void sftp_attributes_free(sftp_attributes a0)
{
	REAL(sftp_attributes_free)(a0);
}

static void *p_sftp_chmod;
int sftp_chmod(sftp_session a0, const char *a1, mode_t a2)
{
	return REAL(sftp_chmod)(a0, a1, a2);
}

static void *p_sftp_chown;
int sftp_chown(sftp_session a0, const char *a1, uid_t a2, gid_t a3)
{
	return REAL(sftp_chown)(a0, a1, a2, a3);
}

static void *p_sftp_close;
int sftp_close(sftp_file a0)
{
	return REAL(sftp_close)(a0);
}

static void *p_sftp_closedir;
int sftp_closedir(sftp_dir a0)
{
	return REAL(sftp_closedir)(a0);
}

static void *p_sftp_dir_eof;
int sftp_dir_eof(sftp_dir a0)
{
	return REAL(sftp_dir_eof)(a0);
}

static void *p_sftp_extension_supported;
int sftp_extension_supported(sftp_session a0, const char *a1, const char *a2)
{
	return REAL(sftp_extension_supported)(a0, a1, a2);
}

static void *p_sftp_free;
void sftp_free(sftp_session a0)
{
	REAL(sftp_free)(a0);
}

static void *p_sftp_fstat;
sftp_attributes sftp_fstat(sftp_file a0)
{
	return REAL(sftp_fstat)(a0);
}

static void *p_sftp_fsync;
int sftp_fsync(sftp_file a0)
{
	return REAL(sftp_fsync)(a0);
}

static void *p_sftp_get_error;
int sftp_get_error(sftp_session a0)
{
	return REAL(sftp_get_error)(a0);
}

static void *p_sftp_init;
int sftp_init(sftp_session a0)
{
	return REAL(sftp_init)(a0);
}

static void *p_sftp_lstat;
sftp_attributes sftp_lstat(sftp_session a0, const char *a1)
{
	return REAL(sftp_lstat)(a0, a1);
}

static void *p_sftp_mkdir;
int sftp_mkdir(sftp_session a0, const char *a1, mode_t a2)
{
	return REAL(sftp_mkdir)(a0, a1, a2);
}

static void *p_sftp_new;
sftp_session sftp_new(ssh_session a0)
{
	return REAL(sftp_new)(a0);
}

static void *p_sftp_open;
sftp_file sftp_open(sftp_session a0, const char *a1, int a2, mode_t a3)
{
	return REAL(sftp_open)(a0, a1, a2, a3);
}

static void *p_sftp_opendir;
sftp_dir sftp_opendir(sftp_session a0, const char *a1)
{
	return REAL(sftp_opendir)(a0, a1);
}

static void *p_sftp_read;
ssize_t sftp_read(sftp_file a0, void *a1, size_t a2)
{
	return REAL(sftp_read)(a0, a1, a2);
}

static void *p_sftp_readdir;
sftp_attributes sftp_readdir(sftp_session a0, sftp_dir a1)
{
	return REAL(sftp_readdir)(a0, a1);
}

static void *p_sftp_readlink;
char *sftp_readlink(sftp_session a0, const char *a1)
{
	return REAL(sftp_readlink)(a0, a1);
}

static void *p_sftp_rename;
int sftp_rename(sftp_session a0, const char *a1, const char *a2)
{
	return REAL(sftp_rename)(a0, a1, a2);
}

static void *p_sftp_rmdir;
int sftp_rmdir(sftp_session a0, const char *a1)
{
	return REAL(sftp_rmdir)(a0, a1);
}

static void *p_sftp_stat;
sftp_attributes sftp_stat(sftp_session a0, const char *a1)
{
	return REAL(sftp_stat)(a0, a1);
}

static void *p_sftp_symlink;
int sftp_symlink(sftp_session a0, const char *a1, const char *a2)
{
	return REAL(sftp_symlink)(a0, a1, a2);
}

static void *p_sftp_unlink;
int sftp_unlink(sftp_session a0, const char *a1)
{
	return REAL(sftp_unlink)(a0, a1);
}

static void *p_sftp_utimes;
int sftp_utimes(sftp_session a0, const char *a1, const struct timeval *a2)
{
	return REAL(sftp_utimes)(a0, a1, a2);
}

static void *p_sftp_write;
ssize_t sftp_write(sftp_file a0, const void *a1, size_t a2)
{
	return REAL(sftp_write)(a0, a1, a2);
}

static void *p_ssh_channel_close;
int ssh_channel_close(ssh_channel a0)
{
	return REAL(ssh_channel_close)(a0);
}

static void *p_ssh_channel_free;
void ssh_channel_free(ssh_channel a0)
{
	REAL(ssh_channel_free)(a0);
}

static void *p_ssh_channel_get_exit_status;
int ssh_channel_get_exit_status(ssh_channel a0)
{
	return REAL(ssh_channel_get_exit_status)(a0);
}

static void *p_ssh_channel_is_closed;
int ssh_channel_is_closed(ssh_channel a0)
{
	return REAL(ssh_channel_is_closed)(a0);
}

static void *p_ssh_channel_is_eof;
int ssh_channel_is_eof(ssh_channel a0)
{
	return REAL(ssh_channel_is_eof)(a0);
}

static void *p_ssh_channel_new;
ssh_channel ssh_channel_new(ssh_session a0)
{
	return REAL(ssh_channel_new)(a0);
}

static void *p_ssh_channel_open_session;
int ssh_channel_open_session(ssh_channel a0)
{
	return REAL(ssh_channel_open_session)(a0);
}

static void *p_ssh_channel_poll_timeout;
int ssh_channel_poll_timeout(ssh_channel a0, int a1, int a2)
{
	return REAL(ssh_channel_poll_timeout)(a0, a1, a2);
}

static void *p_ssh_channel_read;
int ssh_channel_read(ssh_channel a0, void *a1, uint32_t a2, int a3)
{
	return REAL(ssh_channel_read)(a0, a1, a2, a3);
}

static void *p_ssh_channel_read_nonblocking;
int ssh_channel_read_nonblocking(ssh_channel a0, void *a1, uint32_t a2, int a3)
{
	return REAL(ssh_channel_read_nonblocking)(a0, a1, a2, a3);
}

static void *p_ssh_channel_read_timeout;
int ssh_channel_read_timeout(ssh_channel a0, void *a1, uint32_t a2, int a3, int a4)
{
	return REAL(ssh_channel_read_timeout)(a0, a1, a2, a3, a4);
}

static void *p_ssh_channel_request_exec;
int ssh_channel_request_exec(ssh_channel a0, const char *a1)
{
	return REAL(ssh_channel_request_exec)(a0, a1);
}

static void *p_ssh_channel_request_send_signal;
int ssh_channel_request_send_signal(ssh_channel a0, const char *a1)
{
	return REAL(ssh_channel_request_send_signal)(a0, a1);
}

static void *p_ssh_channel_send_eof;
int ssh_channel_send_eof(ssh_channel a0)
{
	return REAL(ssh_channel_send_eof)(a0);
}

static void *p_ssh_channel_window_size;
uint32_t ssh_channel_window_size(ssh_channel a0)
{
	return REAL(ssh_channel_window_size)(a0);
}

static void *p_ssh_channel_write;
int ssh_channel_write(ssh_channel a0, const void *a1, uint32_t a2)
{
	return REAL(ssh_channel_write)(a0, a1, a2);
}

static void *p_ssh_clean_pubkey_hash;
void ssh_clean_pubkey_hash(unsigned char **a0)
{
	REAL(ssh_clean_pubkey_hash)(a0);
}

static void *p_ssh_connect;
int ssh_connect(ssh_session a0)
{
	return REAL(ssh_connect)(a0);
}

static void *p_ssh_disconnect;
void ssh_disconnect(ssh_session a0)
{
	REAL(ssh_disconnect)(a0);
}

static void *p_ssh_free;
void ssh_free(ssh_session a0)
{
	REAL(ssh_free)(a0);
}

static void *p_ssh_get_error;
const char *ssh_get_error(void *a0)
{
	return REAL(ssh_get_error)(a0);
}

static void *p_ssh_get_fd;
socket_t ssh_get_fd(ssh_session a0)
{
	return REAL(ssh_get_fd)(a0);
}

static void *p_ssh_get_fingerprint_hash;
char *ssh_get_fingerprint_hash(enum ssh_publickey_hash_type a0, unsigned char *a1, size_t a2)
{
	return REAL(ssh_get_fingerprint_hash)(a0, a1, a2);
}

static void *p_ssh_get_publickey_hash;
int ssh_get_publickey_hash(const ssh_key a0, enum ssh_publickey_hash_type a1, unsigned char **a2,
                           size_t *a3)
{
	return REAL(ssh_get_publickey_hash)(a0, a1, a2, a3);
}

static void *p_ssh_get_server_publickey;
int ssh_get_server_publickey(ssh_session a0, ssh_key *a1)
{
	return REAL(ssh_get_server_publickey)(a0, a1);
}

static void *p_ssh_is_connected;
int ssh_is_connected(ssh_session a0)
{
	return REAL(ssh_is_connected)(a0);
}

static void *p_ssh_key_free;
void ssh_key_free(ssh_key a0)
{
	REAL(ssh_key_free)(a0);
}

static void *p_ssh_key_type;
enum ssh_keytypes_e ssh_key_type(const ssh_key a0)
{
	return REAL(ssh_key_type)(a0);
}

static void *p_ssh_key_type_to_char;
const char *ssh_key_type_to_char(enum ssh_keytypes_e a0)
{
	return REAL(ssh_key_type_to_char)(a0);
}

static void *p_ssh_known_hosts_parse_line;
int ssh_known_hosts_parse_line(const char *a0, const char *a1, struct ssh_knownhosts_entry **a2)
{
	return REAL(ssh_known_hosts_parse_line)(a0, a1, a2);
}

static void *p_ssh_knownhosts_entry_free;
void ssh_knownhosts_entry_free(struct ssh_knownhosts_entry *a0)
{
	REAL(ssh_knownhosts_entry_free)(a0);
}

static void *p_ssh_new;
ssh_session ssh_new(void)
{
	return REAL(ssh_new)();
}

static void *p_ssh_options_set;
int ssh_options_set(ssh_session a0, enum ssh_options_e a1, const void *a2)
{
	return REAL(ssh_options_set)(a0, a1, a2);
}

static void *p_ssh_pki_import_privkey_file;
int ssh_pki_import_privkey_file(const char *a0, const char *a1, ssh_auth_callback a2, void *a3,
                                ssh_key *a4)
{
	return REAL(ssh_pki_import_privkey_file)(a0, a1, a2, a3, a4);
}

static void *p_ssh_send_ignore;
int ssh_send_ignore(ssh_session a0, const char *a1)
{
	return REAL(ssh_send_ignore)(a0, a1);
}

static void *p_ssh_session_is_known_server;
enum ssh_known_hosts_e ssh_session_is_known_server(ssh_session a0)
{
	return REAL(ssh_session_is_known_server)(a0);
}

static void *p_ssh_session_update_known_hosts;
int ssh_session_update_known_hosts(ssh_session a0)
{
	return REAL(ssh_session_update_known_hosts)(a0);
}

static void *p_ssh_string_free_char;
void ssh_string_free_char(char *a0)
{
	REAL(ssh_string_free_char)(a0);
}

static void *p_ssh_userauth_agent;
int ssh_userauth_agent(ssh_session a0, const char *a1)
{
	return REAL(ssh_userauth_agent)(a0, a1);
}

static void *p_ssh_userauth_password;
int ssh_userauth_password(ssh_session a0, const char *a1, const char *a2)
{
	return REAL(ssh_userauth_password)(a0, a1, a2);
}

static void *p_ssh_userauth_publickey;
int ssh_userauth_publickey(ssh_session a0, const char *a1, const ssh_key a2)
{
	return REAL(ssh_userauth_publickey)(a0, a1, a2);
}
