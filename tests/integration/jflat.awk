# Flattens a JSON document into one line per scalar: PATH<TAB>VALUE, where PATH joins
# object keys and array indexes with dots (disks.0.grub_embed.verdict) and VALUE is
# the scalar with string quotes removed. Every array also gives PATH#<TAB>LENGTH.
# Plain POSIX awk (Debian's mawk is enough): the tests need no jq or python.
# Exits 1 on anything that is not well-formed JSON.
{ doc = doc $0 "\n" }
function bad(why) { print "jflat: " why " at offset " i > "/dev/stderr"; failed = 1; exit 1 }
function path(   p, l) {
  p = ""
  for (l = 1; l <= d; l++) p = p (l > 1 ? "." : "") (type[l] == "o" ? key[l] : idx[l])
  return p
}
function value_done() {
  if (d == 0) { top = 1; return }
  if (type[d] == "a") idx[d]++; else want_key[d] = 1
}
function emit(v) {
  if (d > 0 && type[d] == "o" && want_key[d]) bad("value where a key belongs")
  print path() "\t" v
  value_done()
}
END {
  if (failed) exit 1
  n = length(doc); d = 0; top = 0
  for (i = 1; i <= n; i++) {
    c = substr(doc, i, 1)
    if (c == " " || c == "\n" || c == "\t" || c == "\r" || c == ":" || c == ",") continue
    if (top) bad("text after the document")
    if (c == "{" || c == "[") {
      if (d > 0 && type[d] == "o" && want_key[d]) bad("container where a key belongs")
      d++; type[d] = (c == "{") ? "o" : "a"; idx[d] = 0; want_key[d] = 1; key[d] = ""
      continue
    }
    if (c == "}" || c == "]") {
      if (d == 0 || type[d] != (c == "}" ? "o" : "a")) bad("unbalanced " c)
      if (type[d] == "a") { len = idx[d]; d--; print path() "#\t" len; d++ }
      d--; value_done(); continue
    }
    if (c == "\"") {
      s = ""
      for (i++; i <= n; i++) {
        c = substr(doc, i, 1)
        if (c == "\\") {
          i++; e = substr(doc, i, 1)
          if (e == "n") s = s "\\n"; else if (e == "t") s = s "\\t"
          else if (e == "u") { s = s "\\u" substr(doc, i + 1, 4); i += 4 }
          else s = s e
          continue
        }
        if (c == "\"") break
        s = s c
      }
      if (i > n) bad("unterminated string")
      if (d > 0 && type[d] == "o" && want_key[d]) { key[d] = s; want_key[d] = 0; continue }
      emit(s); continue
    }
    lit = ""
    while (i <= n && index(" \n\t\r,]}:", substr(doc, i, 1)) == 0) { lit = lit substr(doc, i, 1); i++ }
    i--
    if (lit !~ /^(true|false|null|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$/) bad("bad literal " lit)
    emit(lit)
  }
  if (d != 0 || !top) bad("unexpected end")
}
