"""Keywords: recognised whatever the case, accents, spaces or punctuation; free text is not a command."""
import pytest

from chalicelib.domain.keywords import Command, normalize_text, parse_command


@pytest.mark.parametrize("text", ["ATTIVA", "attiva", "Attiva!", " ATTIVA ", "ISCRIVIMI", "mi iscrivo",
                                  "MI ISCRIVO.", "START", "Àttiva", "attiva\n"])
def test_subscribe_variants(text):
    assert parse_command(text) is Command.SUBSCRIBE


@pytest.mark.parametrize("text", ["DISATTIVA", "disattiva", "STOP", "stop!", "Cancellami", "BASTA",
                                  "basta.", "Stop grazie", "DISATTIVA per favore"])
def test_unsubscribe_variants(text):
    assert parse_command(text) is Command.UNSUBSCRIBE


@pytest.mark.parametrize("text,command", [("SI", Command.CONFIRM), ("sì", Command.CONFIRM), ("Sì!", Command.CONFIRM),
                                          ("no", Command.DECLINE), ("AIUTO", Command.HELP), ("info", Command.HELP),
                                          ("?", Command.HELP), ("Preferenze", Command.PREFERENCES)])
def test_other_commands(text, command):
    assert parse_command(text) is command


@pytest.mark.parametrize("text", ["C'è una buca in via Roma", "basta con le buche in via Roma, è pericoloso",
                                  "", None, "attivazione del servizio", "x" * 500])
def test_free_text_is_not_a_command(text):
    assert parse_command(text) is None


def test_normalize_text():
    assert normalize_text("  Sì,   CONFERMO! ") == "si confermo"
