// Password hashing, secret tokens and digests (SPEC 4). Everything secret comes from the OS
// CSPRNG through OpenSSL; nothing here keeps state, so it is safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lkk/status.h"

namespace lkk::crypto {

// Argon2id cost; the defaults are the SPEC's (and OWASP's) m=19 MiB, t=2, p=1.
struct Argon2Params {
    uint32_t memory_kib = 19456, iterations = 2, parallelism = 1;
};

// Argon2id in the PHC encoded form ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") with a
// fresh 16-byte salt and a 32-byte hash. Fails only on bad parameters or no entropy.
Result<std::string> hash_password(std::string_view password, const Argon2Params& params);

// True when password matches the encoded hash; constant time in the password (argon2id_verify).
// A malformed encoded string simply does not match.
bool verify_password(std::string_view password, const std::string& encoded);

// Makes the slots of the Argon2 runs (one per CPU) shared with every process forked afterwards,
// so the server's workers together run at most as many hashes at once as the machine has CPUs,
// whichever of them the logins reach. Call it in the parent, before the fork (nginx's master,
// Apache's parent); later calls keep the slots made by the first. Without it a process hashes
// as if alone (lkk-admin, tests).
void share_hash_slots() noexcept;
// The same in shared memory the caller keeps for the server's life (hash_slots_size() bytes,
// zeros when new): a module unloaded between configuration reads (Apache) finds the slots the
// earlier reads made there, instead of mapping new ones that the workers of the last generation
// do not see. Call it before share_hash_slots(). False: mem is unusable (too small,
// misaligned, another build's slots), and nothing changed.
bool share_hash_slots(void* mem, size_t size) noexcept;
size_t hash_slots_size() noexcept;

// True when the encoded hash was made with other parameters (or is unreadable), so a login
// that just verified the password should store a fresh hash.
bool needs_rehash(const std::string& encoded, const Argon2Params& params);

// 32 bytes from the OS CSPRNG as base64url without padding: 43 characters from [A-Za-z0-9_-].
// Used for confirmation/reset tokens, session ids and CSRF tokens.
std::string random_token();

// True for the shape of a random_token() (43 characters of [A-Za-z0-9_-]): anything else a
// client sends where a token belongs is refused before any look-up.
bool looks_like_token(std::string_view v);

// RFC 4648 section 5 base64url, no '=' padding.
std::string base64url_encode(std::string_view bytes);

// Lower-case hex SHA-256; the form in which tokens are stored, so a database leak yields no
// usable token.
std::string sha256_hex(std::string_view data);

// Lower-case hex SHA-1, only where a protocol names things by it (Redis' EVALSHA); never for
// secrets.
std::string sha1_hex(std::string_view data);

// Compares secrets without a timing side channel on their content.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lkk::crypto
