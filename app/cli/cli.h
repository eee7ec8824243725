// CLI sub-commands: `trackerdesk COMMAND [options]`. One table (cli.cpp), one file per
// command. Commands run on a QCoreApplication, write results to stdout and errors as one
// clear line to stderr, and return the process exit code.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace td::cli {

struct Command {
    QString name;
    QString summary;
    int (*run)(const QStringList &arguments);  // arguments[0] is "trackerdesk COMMAND"
};

const QList<Command> &commands();
const Command *findCommand(const QString &name);

// Shared helpers for commands.
void printError(const QString &message);   // "trackerdesk: error: ..." on stderr
void printOut(const QString &text);        // stdout, UTF-8
// Parses a command's arguments. A parse error is printed (with `hint` after it) and gives
// exit code 2; --help prints the help and gives 0; nullopt: go on with the command.
//   if (const auto exit = parseArguments(p, args)) return *exit;
std::optional<int> parseArguments(QCommandLineParser &parser, const QStringList &arguments, const QString &hint = {});
// For commands without positional arguments: an error (exit code 2) when some were given.
//   if (const auto exit = noPositionalArguments(p, args)) return *exit;
std::optional<int> noPositionalArguments(const QCommandLineParser &parser, const QStringList &arguments);
// Empty when DIR holds a TrackerDesk database, else the error to print: commands that read
// data must not make an empty database in a mistyped folder.
QString missingDatabase(const QString &dir);

} // namespace td::cli
