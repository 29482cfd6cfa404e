//! The character-level tokenizer (docs/model.md §M9).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An ordered vocabulary of distinct characters; token id = index.
#[derive(Clone, Debug, PartialEq)]
pub struct CharTokenizer {
    vocab: Vec<char>,
    index: HashMap<char, u32>,
}

/// Why a vocabulary is invalid or a text cannot be encoded.
#[derive(Debug, Error, PartialEq)]
pub enum TokenizerError {
    #[error("tokenizer: {detail}")]
    Json { detail: String },
    #[error("tokenizer kind is \"{kind}\"; only \"char\" is supported")]
    Kind { kind: String },
    #[error(
        "tokenizer vocabulary entry {index} is {entry:?}; each entry must be exactly one character"
    )]
    NotOneChar { index: usize, entry: String },
    #[error("tokenizer vocabulary entry {index} ({ch:?}) repeats entry {first}")]
    Duplicate {
        index: usize,
        first: usize,
        ch: char,
    },
    #[error("the prompt holds {ch:?} (U+{code:04X}) at character {position}, which is not in the model's vocabulary")]
    UnknownChar {
        ch: char,
        code: u32,
        position: usize,
    },
    #[error("token id {id} is outside the vocabulary ({size} tokens)")]
    UnknownToken { id: u32, size: usize },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenizerJson {
    kind: String,
    vocab: Vec<String>,
}

impl CharTokenizer {
    /// A tokenizer of the given characters, which must be distinct.
    pub fn new(vocab: Vec<char>) -> Result<Self, TokenizerError> {
        let mut index = HashMap::with_capacity(vocab.len());
        for (i, &ch) in vocab.iter().enumerate() {
            if let Some(&first) = index.get(&ch) {
                return Err(TokenizerError::Duplicate {
                    index: i,
                    first: first as usize,
                    ch,
                });
            }
            index.insert(ch, i as u32);
        }
        Ok(CharTokenizer { vocab, index })
    }

    /// Parses the checkpoint's `hgf.tokenizer` JSON.
    pub fn from_json(text: &str) -> Result<Self, TokenizerError> {
        let json: TokenizerJson = serde_json::from_str(text).map_err(|e| TokenizerError::Json {
            detail: e.to_string(),
        })?;
        if json.kind != "char" {
            return Err(TokenizerError::Kind { kind: json.kind });
        }
        let chars = json
            .vocab
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let mut it = entry.chars();
                match (it.next(), it.next()) {
                    (Some(ch), None) => Ok(ch),
                    _ => Err(TokenizerError::NotOneChar { index, entry }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(chars)
    }

    pub fn to_json(&self) -> String {
        let json = TokenizerJson {
            kind: "char".into(),
            vocab: self.vocab.iter().map(|c| c.to_string()).collect(),
        };
        serde_json::to_string(&json).expect("a tokenizer serializes")
    }

    pub fn len(&self) -> usize {
        self.vocab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vocab.is_empty()
    }

    pub fn vocab(&self) -> &[char] {
        &self.vocab
    }

    /// The token ids of `text`, one per character.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        text.chars()
            .enumerate()
            .map(|(position, ch)| {
                self.index
                    .get(&ch)
                    .copied()
                    .ok_or(TokenizerError::UnknownChar {
                        ch,
                        code: ch as u32,
                        position,
                    })
            })
            .collect()
    }

    /// The text of token ids.
    pub fn decode(&self, tokens: &[u32]) -> Result<String, TokenizerError> {
        tokens
            .iter()
            .map(|&id| {
                self.vocab
                    .get(id as usize)
                    .copied()
                    .ok_or(TokenizerError::UnknownToken {
                        id,
                        size: self.vocab.len(),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let t = CharTokenizer::new(vec!['\n', ' ', 'a', 'é']).unwrap();
        assert_eq!(t.encode("a é\n").unwrap(), vec![2, 1, 3, 0]);
        assert_eq!(t.decode(&[2, 1, 3, 0]).unwrap(), "a é\n");
        assert_eq!(CharTokenizer::from_json(&t.to_json()).unwrap(), t);
        let err = t.encode("aab").unwrap_err();
        assert_eq!(
            err,
            TokenizerError::UnknownChar {
                ch: 'b',
                code: 0x62,
                position: 2
            }
        );
        assert!(err.to_string().contains("'b'"));
        assert!(matches!(
            CharTokenizer::from_json(r#"{"kind":"char","vocab":["a","bc"]}"#),
            Err(TokenizerError::NotOneChar { index: 1, .. })
        ));
        assert!(matches!(
            CharTokenizer::from_json(r#"{"kind":"char","vocab":["a","a"]}"#),
            Err(TokenizerError::Duplicate {
                index: 1,
                first: 0,
                ..
            })
        ));
        assert!(matches!(
            CharTokenizer::from_json(r#"{"kind":"bpe","vocab":[]}"#),
            Err(TokenizerError::Kind { .. })
        ));
    }
}
