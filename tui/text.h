// Text for a C-locale terminal: printable ASCII only (the installer has no locale
// files, and a disk label or a log line may hold anything), wrapped or cut to fit.
#pragma once
#include <string>
#include <vector>

namespace xsguard::tui {

// Bytes outside printable ASCII become '?', tabs a space.
std::string printable(const std::string& s);

// s cut to width columns, ending in "..." when something was cut.
std::string fit(const std::string& s, int width);

// Paragraphs (split at '\n') wrapped at spaces into lines of at most width columns;
// words longer than a line are broken. Leading indentation of a paragraph is kept on
// its continuation lines.
std::vector<std::string> wrap(const std::string& text, int width);

}  // namespace xsguard::tui
