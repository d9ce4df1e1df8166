//! Windows command lines, as the programs an MSI custom action or a scheduled task
//! starts see them.

/// Splits a command line as Windows programs (and Rust's std) do: spaces separate,
/// double quotes group, 2n backslashes before a quote are n backslashes, 2n+1 are n and a
/// literal quote.
pub fn split_windows(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let (mut args, mut cur, mut in_arg, mut quoted) = (Vec::new(), String::new(), false, false);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let n = chars[i..].iter().take_while(|c| **c == '\\').count();
                i += n;
                in_arg = true;
                if chars.get(i) == Some(&'"') {
                    cur.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        cur.push('"');
                        i += 1;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', n));
                }
                continue;
            }
            '"' => {
                quoted = !quoted;
                in_arg = true;
            }
            ' ' | '\t' if !quoted => {
                if in_arg {
                    args.push(std::mem::take(&mut cur));
                    in_arg = false;
                }
            }
            c => {
                cur.push(c);
                in_arg = true;
            }
        }
        i += 1;
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    if in_arg {
        args.push(cur);
    }
    // A literal quote in an argument means a path ending in a backslash ate its closing
    // quote ("[SomeFolder]" resolves to ...\ and \" is an escaped quote).
    for a in &args {
        assert!(
            !a.contains('"'),
            "{line:?}: argument {a:?} swallowed a quote"
        );
    }
    args
}

#[test]
fn windows_command_lines_split_as_windows_does() {
    assert_eq!(
        split_windows(r#""C:\Program Files\x.exe" /TN "Steward agent" a\\b"#),
        vec![r"C:\Program Files\x.exe", "/TN", "Steward agent", r"a\\b"]
    );
    assert_eq!(split_windows(r#"--dir "C:\d\\""#), vec!["--dir", r"C:\d\"]);
    let swallowed = std::panic::catch_unwind(|| split_windows(r#"--dir "C:\d\" run"#));
    assert!(
        swallowed.is_err(),
        "a folder path ending in \\ before a quote must be caught"
    );
}
