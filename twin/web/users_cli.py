"""``twin-users``: manage the accounts of the live view and dealer portal (the SQLite file ``twin-serve`` reads).

  twin-users add --user ravi --role dealer --dealer D0042 --password-stdin < password.txt
  twin-users add --user meera --role field_ops --password-stdin
  twin-users list
  twin-users set-password --user ravi --password-stdin
  twin-users remove --user ravi

``--db`` names the file (default ``twin_users.db`` in the working directory, as ``twin-serve``'s ``users``).
``--network <run or state folder>`` checks a dealer id against that network now; ``twin-serve`` checks every
dealer user against the network it serves when it starts. Passwords come from stdin (``--password-stdin``, one
line) or are asked twice on the terminal, never from the command line (it would stay in the shell history).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from twin.errors import TwinError
from twin.web.accounts import ROLES, UserStore
from twin.web.database import Database

DEFAULT_DATABASE = "twin_users.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin-users", description="Manage the users of twin-serve (Atlas and the dealer portal)."
    )
    parser.add_argument(
        "--db", default=DEFAULT_DATABASE, help="the users database (SQLite; default %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user")
    add.add_argument("--user", required=True, help="sign-in name")
    add.add_argument("--role", required=True, help=f"one of {', '.join(ROLES)}")
    add.add_argument("--dealer", default=None, help="dealer id (dealer role only), e.g. D0042")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    add.add_argument(
        "--network", default=None, help="a run or state folder whose dealers the dealer id must be in"
    )
    commands.add_parser("list", help="list users (name, role, dealer)")
    remove = commands.add_parser("remove", help="remove a user and end its sessions")
    remove.add_argument("--user", required=True)
    password = commands.add_parser("set-password", help="change a password and end the user's sessions")
    password.add_argument("--user", required=True)
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (one line)"
    )
    return parser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise _RefusedError("password: the two entries differ")
    return first


class _RefusedError(Exception):
    pass


def _known_dealers(network: str | None) -> tuple[str, ...] | None:
    if network is None:
        return None
    from twin.web.state_source import dealer_ids_of

    return dealer_ids_of(network)


def users_main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    try:
        store = UserStore(Database(arguments.db))
        if arguments.command == "add":
            known = _known_dealers(arguments.network)
            password = _read_password(arguments.password_stdin)
            user = store.add(arguments.user, arguments.role, arguments.dealer, password, known)
            where = f" for dealer {user.dealer_id}" if user.dealer_id else ""
            print(f"added {user.name} ({user.role}{where}) to {arguments.db}")
        elif arguments.command == "list":
            users = store.all()
            for user in users:
                print(f"{user.name}\t{user.role}\t{user.dealer_id or '-'}")
            print(f"{len(users)} users in {arguments.db}", file=sys.stderr)
        elif arguments.command == "remove":
            store.remove(arguments.user)
            print(f"removed {arguments.user} (and ended its sessions)")
        elif arguments.command == "set-password":
            store.set_password(arguments.user, _read_password(arguments.password_stdin))
            print(f"password of {arguments.user} changed (its sessions ended)")
    except (TwinError, _RefusedError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    users_main()
