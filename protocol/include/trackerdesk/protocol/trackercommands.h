// Configuration commands that trackers take as SMS text (and, for GT06/JT808 units, as
// online text commands over GPRS): one table of command templates per dialect family, with
// typed parameters, the family's password convention, validation and the formatted text.
//
// Sources: shared/reference/sms/commands.md (vendor manuals, Traccar code/issues,
// open-source TK102 servers). Every template carries its evidence: "verified" when a source
// shows this exact syntax, "reported" when it is widely used but unverified (test it on the
// device first). Pure data and functions, QtCore only.
//
// A template is a pattern with placeholders:
//   {name}        the value of parameter `name` (validated for its type)
//   {name.sub}    a value derived from it (see ParamType)
//   {pwd}         the device's SMS password (or the family default)
//   [ ... ]       an optional section, written when at least one placeholder inside has a value
#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto::commands {

enum class Family {
    Gt06,    // GT06 / Concox / Jimi: KEYWORD,arg,...# without password
    Topin,   // Topin ZX303 / ZX612: pw,<password>,keyword,...#
    Tk102,   // Xexun / Coban TK102/TK103 and clones: keyword<password> args
    Jt808,   // JT/T 808 units with Concox/Jimi-style SMS keywords
};

QString familyId(Family f);                         // "gt06", "topin", "tk102", "jt808"
std::optional<Family> familyFromId(const QString &id);
// The family that fits a device best, from what the server saw (protocol "gt06"/"topin"/
// "jt808", model hint). TK102 units speak no GPRS protocol TrackerDesk decodes; a device
// whose model says "tk10x"/"coban"/"xexun" is taken as one.
Family familyForDevice(const QString &protocol, const QString &model);

enum class ParamType {
    Host,       // IPv4 address or domain name. {x.kind}: 0 for an IP, 1 for a domain (Concox SERVER)
    IpAddress,  // IPv4 address only (TK102 adminip: no DNS)
    Port,       // 1..65535
    Word,       // APN, user, password: printable ASCII without the separators , # ; space
    Seconds,    // an integer in [min, max]. {x.tk}: TK102 form "030s" / "005m" / "002h"
    TimeZone,   // minutes east of UTC, "+8", "-5:30", "480". {x.ew} E|W, {x.h} hours, {x.m} minutes,
                // {x.hours} signed whole hours (refused when the zone has minutes)
    Phone,      // a phone number: optional +, 3..20 digits
    Integer,    // an integer in [min, max] (slot numbers)
};

struct Param {
    QString id;             // "host"
    QString label;          // "Server address"
    ParamType type = ParamType::Word;
    bool required = true;
    int min = 0, max = 0;   // Seconds / Integer
    QString defaultValue;   // shown prefilled ("cmnet", "60")
    QString help;
};

enum class Evidence { Verified, Reported };

struct CommandTemplate {
    QString id;             // "server", "apn", "interval", "timezone", "sos", "where", ...
    QString label;          // "Set server"
    QString pattern;        // "SERVER,{host.kind},{host},{port},0#"
    QList<Param> params;
    bool dangerous = false; // factory reset, cutting the fuel: the UI asks first
    Evidence evidence = Evidence::Reported;
    QString source;         // where the syntax comes from
    QString reply;          // typical reply ("OK", "adminip ok", a position text)
    QString note;           // anything the user should know
};

struct Dialect {
    Family family = Family::Gt06;
    QString name;                   // "GT06 / Concox / Jimi"
    QString passwordConvention;     // readable
    bool usesPassword = false;      // {pwd} appears in the patterns
    QString defaultPassword;        // "123456" (when usesPassword)
    QList<CommandTemplate> commands;
};

// All dialects, one per family, in Family order.
const QList<Dialect> &dialects();
const Dialect &dialect(Family f);
const CommandTemplate *findCommand(Family f, const QString &commandId);

using Values = QHash<QString, QString>;  // parameter id -> text the user typed

// Validates one parameter value ("" for an empty optional one). Empty on success, else why.
QString validateParam(const Param &param, const QString &value);

// Builds the text of a command. `password` empty: the family default. nullopt with *error
// for an unknown command, a bad value ("Port: 70000 is not between 1 and 65535") or a text
// a tracker would not take (see checkCommandText).
std::optional<QString> formatCommand(Family f, const QString &commandId, const Values &values,
                                     const QString &password = {}, QString *error = nullptr);

// Checks a text meant for a tracker: not empty, at most 160 characters, only characters of
// the GSM 7-bit default alphabet that are plain ASCII (no extension-table characters
// { } [ ] ~ ^ | \ and no `: they cost two septets and firmwares reject them). Empty when fine.
QString checkCommandText(const QString &text);

// The patterns' placeholders, for tests: every {name} / {name.sub} of a template.
QStringList placeholders(const QString &pattern);

} // namespace td::proto::commands
