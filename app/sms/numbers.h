// Phone numbers as users type them and as the network delivers them: "+49 170 123-4567",
// "0049170...", "0170...", short codes, alphanumeric senders ("Megafon"). Trackers' SIM
// numbers are matched to SMS senders in any of these forms.
#pragma once

#include "store/records.h"

#include <QList>
#include <QString>
#include <optional>

namespace td::sms {

// Spaces, dashes, dots and brackets removed; "00CC..." becomes "+CC..."; an alphanumeric
// sender is returned trimmed and otherwise unchanged.
QString normaliseNumber(const QString &number);
// After normalising: an optional + and 3 to 20 digits.
bool isPhoneNumber(const QString &number);

// How well two numbers name the same line: 3 the same after normalising; 2 the same
// subscriber in international and national form ("+491701234567" / "01701234567" /
// "1701234567", at least 7 digits in common); 0 different. Alphanumeric senders match
// only themselves (case-insensitive).
int numberMatch(const QString &a, const QString &b);

// The device whose SIM phone is `number`; 0 for none, or when two devices match equally
// well (an ambiguous number is stored unmatched rather than given to the wrong tracker).
qint64 deviceForNumber(const QList<store::Device> &devices, const QString &number);

// A send target: a device name, an IMEI / terminal id, or a phone number.
struct Recipient {
    QString number;     // normalised
    qint64 deviceId = 0;  // 0: a number that matches no device
    QString label;      // "Cat (864717003283581)" or the number
};
// nullopt with *error: unknown name, a device without a SIM phone number, not a number.
std::optional<Recipient> resolveRecipient(const QList<store::Device> &devices, const QString &to, QString *error);

} // namespace td::sms
