// Line-oriented text helpers for configuration files: splitting, comparing lines the
// way the files' readers do (blanks collapsed), telling text from binary, and the
// unified diffs post shows before it writes anything.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace xsguard::capture {

using Lines = std::vector<std::string>;

// Lines without their '\n'; a missing newline at the end does not add a line.
Lines split_lines(std::string_view text);
// Each line followed by '\n'.
std::string join_lines(const Lines& lines);

std::string trim(std::string_view s);
// Blanks (spaces, tabs) collapsed to one space and trimmed: "a  b\t c" -> "a b c".
std::string normalize(std::string_view line);
// Empty, or a comment ('#' first, after blanks).
bool is_comment_or_blank(std::string_view line);
// Whitespace-separated fields.
std::vector<std::string> fields(std::string_view line);

// No NUL byte and hardly any other control characters: what cron, the shell and
// the kernel's sysctl reader would accept as a text file.
bool looks_like_text(std::string_view bytes);

// The line with control characters (other than tab) shown as '?': file contents
// printed to a terminal must not drive it.
std::string printable(std::string_view line);

// A unified diff (3 lines of context) from a to b, "" when they are equal. Files
// too large for a line-by-line comparison show as removed whole and added whole.
std::string unified_diff(const std::string& a_name, const std::string& b_name, const Lines& a,
                         const Lines& b);

}  // namespace xsguard::capture
