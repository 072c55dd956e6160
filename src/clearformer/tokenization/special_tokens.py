"""Special and added tokens of a tokenizer: attributes (``cls_token``, ``pad_token_id``...),
``add_tokens`` / ``add_special_tokens``, vocabulary size and the id <-> token conversions.

HF names throughout (``additional_special_tokens``, ``added_tokens_decoder``) because they are the
API and the tokenizer_config.json format the course and transformers use.
"""

from __future__ import annotations

from .added_tokens import AddedToken

SPECIAL_TOKENS_ATTRIBUTES = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)


def _special_token_property(name: str) -> property:
    def get(self) -> str | None:
        value = self._special_tokens.get(name)
        return None if value is None else str(value)

    def set(self, value) -> None:
        if value is not None and not isinstance(value, (str, AddedToken)):
            raise TypeError(f"{name} must be a string or AddedToken, got {type(value).__name__}")
        self._special_tokens[name] = value
        if value is not None and self._convert_token_to_id(str(value)) is None:
            self._add_tokens([value], special_tokens=True)

    return property(get, set, doc=f"The {name.replace('_', ' ')} (None if this model has none).")


def _special_id_property(name: str) -> property:
    def get(self) -> int | None:
        token = getattr(self, name)
        return None if token is None else self._convert_token_to_id(token)

    def set(self, value: int | None) -> None:
        setattr(self, name, None if value is None else self.convert_ids_to_tokens(value))

    return property(get, set, doc=f"Id of the {name.replace('_', ' ')}.")


class SpecialTokensMixin:
    """Needs ``self.pipeline`` (with ``.model`` and ``.added``) and ``self._special_tokens``."""

    _special_tokens: dict

    # ---- vocabulary
    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens (as in transformers)."""
        return len(self.pipeline.model.vocab)

    def __len__(self) -> int:
        return len(self.get_vocab())

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.pipeline.model.vocab)
        for token_id, token in self.pipeline.added.tokens.items():
            vocab[token.content] = token_id
        return vocab

    @property
    def vocab(self) -> dict[str, int]:
        own = self.__dict__.get("_own_vocab")
        if own is not None:
            return own
        if type(self.__dict__.get("pipeline")).__name__ == "SubclassPipeline":
            raise AttributeError(f"{type(self).__name__} has not set self.vocab yet")
        return self.get_vocab()

    @vocab.setter
    def vocab(self, value: dict[str, int]) -> None:
        # a hand-written tokenizer (custom.py) keeps its own vocabulary, as transformers 4.x
        # Python tokenizers did; ours read theirs from the pipeline
        if "pipeline" in self.__dict__ and type(self.pipeline).__name__ != "SubclassPipeline":
            raise AttributeError(f"{type(self).__name__}.vocab is read from its files; add tokens with add_tokens()")
        self.__dict__["_own_vocab"] = value

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(sorted(self.pipeline.added.tokens.items()))

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {t.content: i for i, t in self.added_tokens_decoder.items()}

    def get_added_vocab(self) -> dict[str, int]:
        return self.added_tokens_encoder

    @property
    def additional_special_tokens(self) -> list[str]:
        return [str(t) for t in self._special_tokens.get("additional_special_tokens", [])]

    @additional_special_tokens.setter
    def additional_special_tokens(self, tokens) -> None:
        self._special_tokens["additional_special_tokens"] = list(tokens)
        self._add_tokens(list(tokens), special_tokens=True)

    @property
    def additional_special_tokens_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.additional_special_tokens)

    @property
    def special_tokens_map(self) -> dict:
        out = {}
        for name in SPECIAL_TOKENS_ATTRIBUTES:
            if self._special_tokens.get(name) is not None:
                out[name] = str(self._special_tokens[name])
        if self.additional_special_tokens:
            out["additional_special_tokens"] = self.additional_special_tokens
        return out

    @property
    def all_special_tokens(self) -> list[str]:
        seen = []
        for value in self.special_tokens_map.values():
            for token in value if isinstance(value, list) else [value]:
                if token not in seen:
                    seen.append(token)
        return seen

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    # ---- conversions
    def _convert_token_to_id(self, token: str) -> int | None:
        added = self.pipeline.added.ids.get(token)
        return added if added is not None else self.pipeline.model.token_to_id(token)

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | list[int] | None:
        """Unknown tokens map to ``unk_token_id`` (None when there is no unknown token)."""
        if isinstance(tokens, str):
            found = self.pipeline.added.ids.get(tokens)  # added tokens first, as transformers
            if found is None:
                found = self._convert_token_to_id(tokens)
            return found if found is not None else self.unk_token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, int):
            return self._id_to_token(ids)
        special = set(self.all_special_ids) | self.pipeline.added.special_ids()
        return [self._id_to_token(i) for i in ids if not (skip_special_tokens and i in special)]

    def _id_to_token(self, index: int) -> str:
        if index in self.pipeline.added.tokens:
            return self.pipeline.added.token_string(index)
        token = self.pipeline.model.id_to_token(index)
        if token is None:
            raise IndexError(
                f"token id {index} is outside this tokenizer's vocabulary of {len(self)} tokens "
                f"(ids 0..{len(self) - 1})"
            )
        return token

    # ---- adding tokens
    def add_tokens(self, new_tokens, special_tokens: bool = False) -> int:
        """Add tokens that are cut out of text before tokenization; returns how many were new."""
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        return self._add_tokens(list(new_tokens), special_tokens=special_tokens)

    def add_special_tokens(self, special_tokens_dict: dict, replace_additional_special_tokens=True):
        """Set special-token attributes (``{"pad_token": "[PAD]"}``); returns how many were new."""
        added = 0
        for key, value in special_tokens_dict.items():
            if key == "additional_special_tokens":
                values = list(value)
                current = [] if replace_additional_special_tokens else self.additional_special_tokens
                self._special_tokens[key] = current + [v for v in values if str(v) not in current]
                added += self._add_tokens(values, special_tokens=True)
            elif key in SPECIAL_TOKENS_ATTRIBUTES:
                added += self._add_tokens([value], special_tokens=True)
                self._special_tokens[key] = value
            else:
                raise ValueError(
                    f"unknown special token key {key!r}; use one of "
                    f"{list(SPECIAL_TOKENS_ATTRIBUTES) + ['additional_special_tokens']}"
                )
        return added

    def _add_tokens(self, tokens: list, special_tokens: bool = False) -> int:
        added = 0
        for token in tokens:
            if isinstance(token, str):
                token = AddedToken(token, special=special_tokens)
            elif special_tokens and not token.special:
                token.special = True
            if not token.content:
                raise ValueError("cannot add an empty token")
            existing = self.pipeline.added.ids.get(token.content)
            if existing is not None:
                self.pipeline.added.tokens[existing] = token
                continue
            token_id = self.pipeline.model.token_to_id(token.content)
            if token_id is None:
                token_id = len(self)
                added += 1
            lowered = not token.special and self._lowercases_added_tokens()
            self.pipeline.added.add(token, token_id, token.content.lower() if lowered else None)
        self.pipeline.refresh_added_tokens()
        return added

    def _lowercases_added_tokens(self) -> bool:
        normalizer = self.pipeline.normalizer
        return bool(normalizer is not None and getattr(normalizer, "lowercase", False))


for _name in SPECIAL_TOKENS_ATTRIBUTES:
    setattr(SpecialTokensMixin, _name, _special_token_property(_name))
    setattr(SpecialTokensMixin, _name + "_id", _special_id_property(_name))
