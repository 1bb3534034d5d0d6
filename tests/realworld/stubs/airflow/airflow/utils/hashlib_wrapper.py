import hashlib


def md5(data=b"", *, usedforsecurity=False):
    return hashlib.md5(data, usedforsecurity=usedforsecurity)
