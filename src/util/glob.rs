pub fn glob_match(pattern: &[u8], string: &[u8], _nocase: bool) -> bool { pattern == b"*" || pattern == string }
