#include "export/timespec.h"

#include <QRegularExpression>
#include <QTimeZone>

namespace td::exporter {

namespace {

QDateTime dayBound(QDate day, bool rangeEnd) {
    return rangeEnd ? day.endOfDay() : day.startOfDay();
}

} // namespace

std::optional<QDateTime> parseTimeSpec(const QString &text, bool rangeEnd, const QDateTime &now, QString *error) {
    const QString s = text.trimmed().toLower();
    const QDateTime local = now.toLocalTime();
    auto fail = [&]() -> std::optional<QDateTime> {
        if (error)
            *error = QStringLiteral("cannot read the time '%1': use an ISO 8601 date or time (2024-05-01, "
                                    "2024-05-01T14:30, 2024-05-01T14:30:00Z), today, yesterday, now, or an age "
                                    "like 24h, 7d, 90m")
                         .arg(text);
        return std::nullopt;
    };
    if (s.isEmpty())
        return fail();
    if (s == QLatin1String("now"))
        return now;
    if (s == QLatin1String("today"))
        return dayBound(local.date(), rangeEnd);
    if (s == QLatin1String("yesterday"))
        return dayBound(local.date().addDays(-1), rangeEnd);

    // Ages: a number and a unit.
    static const QRegularExpression age(QStringLiteral(
        R"(^-?\s*(\d{1,9})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)$)"));
    if (const auto m = age.match(s); m.hasMatch()) {
        const qint64 n = m.captured(1).toLongLong();
        const QChar unit = m.captured(2).at(0);
        qint64 seconds = n;
        if (unit == QLatin1Char('m')) seconds = n * 60;
        else if (unit == QLatin1Char('h')) seconds = n * 3600;
        else if (unit == QLatin1Char('d')) seconds = n * 86400;
        else if (unit == QLatin1Char('w')) seconds = n * 7 * 86400;
        if (seconds > qint64(200) * 366 * 86400)
            return fail();
        return now.addSecs(-seconds);
    }

    // ISO 8601 date.
    static const QRegularExpression dateOnly(QStringLiteral(R"(^\d{4}-\d{2}-\d{2}$)"));
    if (dateOnly.match(s).hasMatch()) {
        const QDate d = QDate::fromString(s, Qt::ISODate);
        if (!d.isValid())
            return fail();
        return dayBound(d, rangeEnd);
    }

    // ISO 8601 date and time, 'T' or a space between, optional seconds, fraction, zone.
    static const QRegularExpression dateTime(QStringLiteral(
        R"(^(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*(z|[+-]\d{2}(?::?\d{2})?)?$)"));
    const auto m = dateTime.match(s);
    if (!m.hasMatch())
        return fail();
    const QDate d = QDate::fromString(m.captured(1), Qt::ISODate);
    QString timeText = m.captured(2);
    timeText.replace(QLatin1Char(','), QLatin1Char('.'));
    QTime t;
    if (timeText.size() == 5) {
        t = QTime::fromString(timeText, QStringLiteral("HH:mm"));
    } else {
        const qsizetype dot = timeText.indexOf(QLatin1Char('.'));
        t = QTime::fromString(timeText.left(dot < 0 ? timeText.size() : dot), QStringLiteral("HH:mm:ss"));
        if (t.isValid() && dot >= 0) {
            const QString frac = (timeText.mid(dot + 1) + QStringLiteral("00")).left(3);
            t = t.addMSecs(frac.toInt());
        }
    }
    if (!d.isValid() || !t.isValid())
        return fail();
    const QString zone = m.captured(3);
    if (zone.isEmpty())
        return QDateTime(d, t);  // local time
    if (zone == QLatin1String("z"))
        return QDateTime(d, t, QTimeZone::UTC);
    const int sign = zone.startsWith(QLatin1Char('-')) ? -1 : 1;
    const QString digits = zone.mid(1).remove(QLatin1Char(':'));
    const int hh = digits.left(2).toInt();
    const int mm = digits.size() >= 4 ? digits.mid(2, 2).toInt() : 0;
    if (hh > 14 || mm > 59)
        return fail();
    return QDateTime(d, t, QTimeZone::fromSecondsAheadOfUtc(sign * (hh * 3600 + mm * 60)));
}

} // namespace td::exporter
