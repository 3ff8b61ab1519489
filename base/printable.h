// Text that came from outside (client ids, topic and group names, keys)
// made safe to print: a newline in a client id must not forge a log line,
// and an escape sequence in a group name must not repaint an operator's
// terminal.
#ifndef TXMSG_BASE_PRINTABLE_H_
#define TXMSG_BASE_PRINTABLE_H_

#include <string>
#include <string_view>

namespace txmsg::base {

// `text` with every control character (below 0x20, and 0x7f) written as
// \n, \r, \t or \xNN, and backslashes doubled; everything else as it is.
std::string Printable(std::string_view text);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_PRINTABLE_H_
