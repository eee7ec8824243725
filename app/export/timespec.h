// Time values on the command line (--from / --to): ISO 8601 dates and times, words and
// ages relative to now.
//   2024-05-01                   a whole day (local time): its start for --from, its end for --to
//   2024-05-01T14:30[:05[.250]]  local time; also with a space instead of the T
//   2024-05-01T14:30:00Z / +02:00  with a zone
//   today, yesterday             whole days (start / end as above)
//   now
//   24h, 7d, 90m, 45s, 2w        that long before now ("90 min", "7 days" also work)
#pragma once

#include <QDateTime>
#include <QString>
#include <optional>

namespace td::exporter {

// `rangeEnd`: the value ends a range, so a whole day stands for its last millisecond.
// `now` is the reference for words and ages (a local time). std::nullopt with *error set
// when the text is not understood.
std::optional<QDateTime> parseTimeSpec(const QString &text, bool rangeEnd, const QDateTime &now,
                                       QString *error = nullptr);

} // namespace td::exporter
