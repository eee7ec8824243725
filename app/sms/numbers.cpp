#include "sms/numbers.h"

#include <QRegularExpression>

namespace td::sms {

namespace {

QString digitsOf(const QString &n) { return n.startsWith(QLatin1Char('+')) ? n.mid(1) : n; }

QString withoutTrunkZeros(const QString &digits) {
    int i = 0;
    while (i < digits.size() - 1 && digits.at(i) == QLatin1Char('0'))
        ++i;
    return digits.mid(i);
}

QString labelOf(const store::Device &d) {
    return d.name.isEmpty() ? d.imei : QStringLiteral("%1 (%2)").arg(d.name, d.imei);
}

} // namespace

QString normaliseNumber(const QString &number) {
    const QString t = number.trimmed();
    QString out;
    out.reserve(t.size());
    for (QChar c : t) {
        if (c == QLatin1Char(' ') || c == QLatin1Char('-') || c == QLatin1Char('.') || c == QLatin1Char('(') ||
            c == QLatin1Char(')') || c == QChar(0x00A0))
            continue;
        out += c;
    }
    static const QRegularExpression digits(QStringLiteral("^\\+?\\d+$"));
    if (!digits.match(out).hasMatch())
        return t;  // alphanumeric sender or junk: leave as it came
    if (out.startsWith(QLatin1String("00")) && out.size() > 4)
        out = QLatin1Char('+') + out.mid(2);
    return out;
}

bool isPhoneNumber(const QString &number) {
    static const QRegularExpression re(QStringLiteral("^\\+?\\d{3,20}$"));
    return re.match(normaliseNumber(number)).hasMatch();
}

int numberMatch(const QString &a, const QString &b) {
    const QString na = normaliseNumber(a), nb = normaliseNumber(b);
    if (na.isEmpty() || nb.isEmpty())
        return 0;
    if (!isPhoneNumber(na) || !isPhoneNumber(nb))
        return na.compare(nb, Qt::CaseInsensitive) == 0 ? 3 : 0;
    if (na == nb)
        return 3;
    const bool ia = na.startsWith(QLatin1Char('+')), ib = nb.startsWith(QLatin1Char('+'));
    if (ia && ib)
        return 0;  // two different international numbers
    if (ia || ib) {
        const QString intl = digitsOf(ia ? na : nb);
        const QString national = ia ? nb : na;
        // "0170..." (trunk prefix) or "170..." (without it); Italian-style numbers keep
        // their 0 in the international form, so both are tried.
        for (const QString &candidate : {national, withoutTrunkZeros(national)}) {
            if (candidate.size() >= 7 && candidate.size() < intl.size() && intl.endsWith(candidate))
                return 2;
        }
        return 0;
    }
    const QString sa = withoutTrunkZeros(na), sb = withoutTrunkZeros(nb);
    return sa.size() >= 7 && sa == sb ? 2 : 0;
}

qint64 deviceForNumber(const QList<store::Device> &devices, const QString &number) {
    qint64 best = 0;
    int bestQuality = 0;
    bool tie = false;
    for (const store::Device &d : devices) {
        if (d.phone.trimmed().isEmpty())
            continue;
        const int q = numberMatch(d.phone, number);
        if (q == 0)
            continue;
        if (q > bestQuality) {
            best = d.id;
            bestQuality = q;
            tie = false;
        } else if (q == bestQuality) {
            tie = true;
        }
    }
    return tie ? 0 : best;
}

std::optional<Recipient> resolveRecipient(const QList<store::Device> &devices, const QString &to, QString *error) {
    const QString t = to.trimmed();
    if (t.isEmpty()) {
        if (error) *error = QStringLiteral("no recipient given");
        return std::nullopt;
    }
    const store::Device *found = nullptr;
    for (const store::Device &d : devices)
        if (d.imei == t) found = &d;
    if (!found) {
        int named = 0;
        for (const store::Device &d : devices) {
            if (!d.name.isEmpty() && d.name.compare(t, Qt::CaseInsensitive) == 0) {
                found = &d;
                ++named;
            }
        }
        if (named > 1) {
            if (error) *error = QStringLiteral("%1 devices are named '%2'; give the IMEI instead").arg(named).arg(t);
            return std::nullopt;
        }
    }
    if (found) {
        if (!isPhoneNumber(found->phone)) {
            if (error)
                *error = found->phone.trimmed().isEmpty()
                    ? QStringLiteral("device %1 has no SIM phone number; set it in the device's properties").arg(labelOf(*found))
                    : QStringLiteral("device %1 has the SIM phone number '%2', which is not a phone number").arg(labelOf(*found), found->phone);
            return std::nullopt;
        }
        return Recipient{normaliseNumber(found->phone), found->id, labelOf(*found)};
    }
    if (!isPhoneNumber(t)) {
        if (error) *error = QStringLiteral("'%1' is neither a phone number nor the name or IMEI of a device").arg(t);
        return std::nullopt;
    }
    const QString n = normaliseNumber(t);
    const qint64 id = deviceForNumber(devices, n);
    QString label = n;
    for (const store::Device &d : devices)
        if (d.id == id && id) label = labelOf(d);
    return Recipient{n, id, label};
}

} // namespace td::sms
