import pytest

from pokaznyk_core.domain.accounts import (
    account_in_message,
    account_or_eic,
    normalize_phone_digits,
    surname_matches,
    validate_account_number,
)
from pokaznyk_core.domain.outcomes import Code, Problem


@pytest.mark.parametrize(
    "text",
    [
        "0123456789",
        " 012 345 6789 ",
        "012-345-67-89",
        "01234–56789",
        "№0123456789",  # as on the bill
        "О/р 0123456789",
        "о/р: 0123 456 789",
        "ос. рах. 0123456789",
        "Account no. 0123456789",
    ],
)
def test_reads_an_account_number_with_spaces_and_dashes(text: str) -> None:
    assert validate_account_number(text) == "0123456789"


@pytest.mark.parametrize("text", ["012345678", "01234567890", "01234S6789", ""])
def test_refuses_an_account_number_of_the_wrong_shape_and_says_the_length(text: str) -> None:
    assert validate_account_number(text) == Problem(Code.ACCOUNT_NUMBER_FORMAT, {"length": 10})


def test_takes_the_companys_account_number_length() -> None:
    assert validate_account_number("12345678", length=8) == "12345678"


@pytest.mark.parametrize(
    ("given", "on_file"),
    [
        ("Шевченко", "Шевченко"),
        ("  шевченко ", "Шевченко"),
        ("ШЕВЧЕНКО", "Шевченко"),
        ("Мар’яненко", "Мар'яненко"),
        ("Марʼяненко", "Мар'яненко"),
        ("Мар`яненко", "Мар'яненко"),
        ("Маряненко", "Мар'яненко"),  # a phone keyboard without the apostrophe
        ("Маръяненко", "Мар'яненко"),  # a Russian layout's hard sign for it
        ('Мар"яненко', "Мар'яненко"),
        ("Kовальчук", "Ковальчук"),  # Latin K
        ("Тkачук", "Ткачук"),  # Latin k
        ("Cиpoтa", "Сирота"),  # Latin C, p, o, a
        ("Косач -  Квітка", "Косач-Квітка"),
        ("Квітка   Основʼяненко", "Квітка Основ'яненко"),
        ("Smith", "smith"),
        ("Їжак", "Ї" + "жак"),
        ("Йосипенко", "И\u0306осипенко"),  # decomposed Й
        ("Чорновол Іван", "Чорновол"),  # the surname, then the name
        ("чорновол іван петрович", "Чорновол"),
    ],
)
def test_matches_a_surname_typed_in_any_of_the_usual_ways(given: str, on_file: str) -> None:
    assert surname_matches(given, on_file)


@pytest.mark.parametrize(
    ("given", "on_file"),
    [
        ("Шевченко", "Шевчeнко-Коваль"),
        ("Сидоренко", "Сідоренко"),
        ("Мирошниченко", "Мірошниченко"),
        ("Марьяненко", "Мар'яненко"),
        ("", ""),
        ("  ", "Шевченко"),
        ("Іван Чорновол", "Чорновол"),  # only the surname first
        ("Чорновол Іван Петрович Коваль", "Чорновол"),
    ],
)
def test_does_not_match_another_surname(given: str, on_file: str) -> None:
    assert not surname_matches(given, on_file)


def test_does_not_map_letters_of_a_surname_on_file_in_latin() -> None:
    assert not surname_matches("Смітн", "Smith")
    assert not surname_matches("Kоваль", "Koval")


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+380 50 123 45 67", "380501234567"),
        ("050-123-45-67", "380501234567"),
        ("(050) 1234567", "380501234567"),
        ("80501234567", "380501234567"),
        ("380501234567", "380501234567"),
        ("+48 600 123 456", "48600123456"),
        ("", ""),
    ],
)
def test_compares_phones_by_their_international_digits(text: str, digits: str) -> None:
    assert normalize_phone_digits(text) == digits


@pytest.mark.parametrize(
    ("text", "number", "surname"),
    [
        ("4110000011 Тарнавська", "4110000011", "Тарнавська"),
        ("Тарнавська, 4110000011", "4110000011", "Тарнавська"),
        ("№ 41 1000 0011 Тарнавська Ольга", "41 1000 0011", "Тарнавська Ольга"),
        ("рахунок 4110000011: Лук'яненко", "4110000011", "Лук'яненко"),
        ("62Z1234567890123 Бойко-Мирна", "62Z1234567890123", "Бойко-Мирна"),
        # words beside the number that are no surname: the number alone
        ("Добрий день, 4110000011", "4110000011", ""),
        ("Мій рахунок 4110000011", "4110000011", ""),
        ("4110000011 дякую", "4110000011", ""),
        ("My account is 4110000011", "4110000011", ""),
        ("рахунок 4110000011, прізвище Тарнавська", "4110000011", ""),
        ("Ольга 4110000011 Т.", "4110000011", ""),
        ("Здравствуйте, 4110000011", "4110000011", ""),
        ("Слава Україні 4110000011", "4110000011", ""),
        ("4110000011", "4110000011", ""),
    ],
)
def test_finds_the_account_number_and_a_surname_beside_it(
    text: str, number: str, surname: str
) -> None:
    assert account_in_message(text) == (number, surname)


@pytest.mark.parametrize("text", ["Тарнавська", "4110 Тарнавська 0011", "5 і 7"])
def test_finds_no_account_number_where_there_is_not_one(text: str) -> None:
    assert account_in_message(text) is None


@pytest.mark.parametrize(
    "given",
    [
        "Ярошенко.",
        "ярошенко!",
        "Прізвище: Ярошенко",
        "Моє прізвище Ярошенко",
        "My surname is Yaroshenko",
    ],
)
def test_matches_a_surname_with_the_words_and_stops_people_write_around_it(given: str) -> None:
    assert surname_matches(given, "Ярошенко")


@pytest.mark.parametrize(
    ("given", "on_file"),
    [
        ("Yaroshenko", "Ярошенко"),
        ("Hryhorenko", "Григоренко"),
        ("Grygorenko", "Григоренко"),
        ("Shcherbak", "Щербак"),
        ("Zghurskyi", "Згурський"),
        ("Lukianenko", "Лук'яненко"),
        ("yershov ivan", "Єршов"),
        ("Koval", "Коваль"),
        ("Sydorenko", "Сидоренко"),
        ("Yaremenko-Yurchenko", "Яременко-Юрченко"),  # each part's start
        ("Oliynyk", "Олійник"),  # passports before 2010
        ("Ryabchenko", "Рябченко"),
        ("Solovyov", "Соловйов"),
        ("Maryanenko", "Мар'яненко"),
        ("Iaroshenko", "Ярошенко"),
        ("Kovalsky", "Ковальський"),
        ("Kovalskiy", "Ковальський"),
        ("Homych", "Хомич"),  # h for х
        ("Yaremenko Yurchenko", "Яременко-Юрченко"),  # a space for the hyphen
    ],
)
def test_matches_a_surname_typed_in_the_official_transliteration(given: str, on_file: str) -> None:
    assert surname_matches(given, on_file)


@pytest.mark.parametrize(
    ("given", "on_file"),
    [
        ("Petrenko", "Ярошенко"),
        ("Hrygorenko", "Григоренко"),  # g and h mixed: no spelling of it
        ("Koval", "Ковалик"),
        ("Kovalenko", "Коваль"),
    ],
)
def test_a_transliteration_of_another_spelling_does_not_match(given: str, on_file: str) -> None:
    assert not surname_matches(given, on_file)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("my account is 411000007", Code.ACCOUNT_NUMBER_FORMAT),  # a number among words
        ("мій рахунок 41100000071", Code.ACCOUNT_NUMBER_FORMAT),
        ("12345", Code.ACCOUNT_NUMBER_FORMAT),
        ("62Z554330313580X", Code.EIC_CHECK_CHARACTER),  # a code with a wrong check character
        ("62Z 5543 3031 3580X", Code.EIC_CHECK_CHARACTER),
        ("62Z5543\u00ad30313580X", Code.EIC_CHECK_CHARACTER),  # a soft hyphen from a bill
    ],
)
def test_a_malformed_entry_is_told_the_format_it_was_meant_in(text: str, code: Code) -> None:
    found = account_or_eic(text)
    assert isinstance(found, Problem) and found.code is code


@pytest.mark.parametrize(
    "typed",
    ["\u200fДмитренко", "Дмит\u200dренко", "Дмит\u00adренко", "Дмитре\u0301нко"],
)
def test_invisible_marks_and_a_stress_mark_in_a_typed_surname_do_not_matter(typed: str) -> None:
    assert surname_matches(typed, "Дмитренко")
    assert not surname_matches("Дмитрéнко", "Дмитриенко")


def test_full_width_digits_are_an_account_number() -> None:
    assert validate_account_number("４１１００００００６") == "4110000006"


def test_й_and_ї_stay_letters_of_their_own() -> None:
    assert surname_matches("Гайова", "Гайова") and not surname_matches("Гаиова", "Гайова")
    assert surname_matches("Ї\u0308жак".replace("\u0308", ""), "Їжак")
    assert surname_matches("І\u0308жак", "Їжак")  # і with a diaeresis, composed, is ї
