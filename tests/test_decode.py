import pytest

from conftest import encode_cp1258
from transforms.decode import DecodeError, decode_bytes, sniff_format

VIETNAMESE = "Tổng kết thực hiện Chỉ thị số 35-CT/TW của Bộ Chính trị về Đại hội đảng bộ các cấp.\nĐồng chí Ngô Chí Cường."


@pytest.mark.parametrize(
    "encoded",
    [
        VIETNAMESE.encode("utf-8"),
        VIETNAMESE.encode("utf-8-sig"),
        VIETNAMESE.encode("utf-16"),  # with BOM
        VIETNAMESE.encode("utf-16-be").join([b"\xfe\xff", b""]),
        encode_cp1258(VIETNAMESE * 3),
        VIETNAMESE.replace("\n", "\r\n").encode("utf-8"),
    ],
)
def test_encodings_decode_to_the_same_nfc_text(encoded):
    assert decode_bytes(encoded).startswith(VIETNAMESE)


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"  \n\t ", "empty"), (bytes(range(256)) * 20, "binary"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "binary")],
)
def test_refused(data, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_bytes(data)


def test_html_is_sniffed_by_content_whatever_the_name():
    assert sniff_format(b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.txt") == "html"
    assert sniff_format(b"\n<html lang='vi'><head>", "noname") == "html"
    assert sniff_format(VIETNAMESE.encode(), "article.txt") == "text"
    assert sniff_format("Giá 5 < 6 và 7 > 3".encode(), "a.html") == "html"  # named .html with markup-ish bytes
