//! Parser for the binary utmp file (`/var/run/utmp`) of glibc on 64-bit Linux.
//!
//! A record is 384 bytes on x86_64 and aarch64: `ut_type` (i32, native endian) at offset
//! 0 and `ut_user` (32 bytes, NUL padded) at offset 44. Sessions are `USER_PROCESS`
//! records.

/// Size of one `struct utmp` record.
const RECORD_LEN: usize = 384;
const TYPE_OFFSET: usize = 0;
const USER_OFFSET: usize = 44;
const USER_LEN: usize = 32;
/// `ut_type` of a normal user session.
const USER_PROCESS: i32 = 7;

/// User names with a session, sorted and without duplicates. A trailing partial record is
/// ignored.
pub(super) fn parse_users(bytes: &[u8]) -> Vec<String> {
    let mut users: Vec<String> = bytes
        .chunks_exact(RECORD_LEN)
        .filter(|r| {
            let mut t = [0u8; 4];
            t.copy_from_slice(&r[TYPE_OFFSET..TYPE_OFFSET + 4]);
            i32::from_ne_bytes(t) == USER_PROCESS
        })
        .filter_map(|r| {
            let field = &r[USER_OFFSET..USER_OFFSET + USER_LEN];
            let end = field.iter().position(|b| *b == 0).unwrap_or(USER_LEN);
            let name = String::from_utf8_lossy(&field[..end]).trim().to_string();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    users.sort();
    users.dedup();
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ut_type: i32, user: &str) -> Vec<u8> {
        let mut r = vec![0u8; RECORD_LEN];
        r[..4].copy_from_slice(&ut_type.to_ne_bytes());
        r[4..8].copy_from_slice(&1234i32.to_ne_bytes()); // ut_pid
        r[8..13].copy_from_slice(b"pts/0"); // ut_line
        r[USER_OFFSET..USER_OFFSET + user.len()].copy_from_slice(user.as_bytes());
        r
    }

    #[test]
    fn sessions_deduplicated_and_sorted() {
        let mut bytes = Vec::new();
        bytes.extend(record(2, "reboot")); // BOOT_TIME
        bytes.extend(record(7, "zoe"));
        bytes.extend(record(6, "LOGIN")); // LOGIN_PROCESS
        bytes.extend(record(7, "alice"));
        bytes.extend(record(8, "bob")); // DEAD_PROCESS: logged out
        bytes.extend(record(7, "zoe"));
        bytes.extend(record(7, "abcdefghijklmnopqrstuvwxyz012345")); // full 32 bytes
        bytes.extend(&[7, 0, 0]); // truncated record
        assert_eq!(
            parse_users(&bytes),
            vec!["abcdefghijklmnopqrstuvwxyz012345", "alice", "zoe"]
        );
    }

    #[test]
    fn empty_file() {
        assert!(parse_users(&[]).is_empty());
    }
}
