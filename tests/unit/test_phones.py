"""Phone numbers: the ways Italians write one number are one person; junk is refused."""
import pytest

from chalicelib.domain.phones import InvalidPhone, mask, normalize


@pytest.mark.parametrize("raw", ["335 139 7378", "335/1397378", "+39 335 1397378", "0039 3351397378",
                                 "+393351397378", " 3351397378 ", "335-139-7378"])
def test_one_person_however_written(raw):
    assert normalize(raw) == "+393351397378"


def test_landline_and_foreign_numbers():
    assert normalize("0571 123456") == "+390571123456"
    assert normalize("+41 44 668 18 00") == "+41446681800"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "123", "+39 12", "3" * 40, "+39 335 139 7378 999 999"])
def test_junk_is_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize(raw)


def test_mask_hides_all_but_country_and_last_digits():
    assert mask("+393351397378") == "+39******78"
    assert "1397" not in mask("+393351397378")
    assert mask(None) == "-"
