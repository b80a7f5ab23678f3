// The helper modules and functions model.py defines when its layers need
// them (pytorch.ts puts in only those a model uses). Browser-safe (text).

export const POSITION_EMBEDDING_HELPER = `

class PositionEmbedding(nn.Module):
    """A learned vector per position, added to the input [batch, T, D] (Tessera's position_embedding)."""

    def __init__(self, length, dim):
        super().__init__()
        self.embeddings = nn.Parameter(torch.zeros(length, dim))

    def forward(self, x):
        return x + self.embeddings[: x.shape[1]]
`;

export const AVG_POOL_HELPER = `

def avg_pool2d_excluding_padding(x, kernel_size, stride, pad):
    """Average pooling whose windows average only their valid elements (Keras's 'same' padding)."""
    total = F.avg_pool2d(F.pad(x, pad), kernel_size, stride)
    valid = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pad), kernel_size, stride)
    return total / valid
`;

/** Keras's MultiHeadAttention as self-attention, with Tessera's weights as Linear layers. */
export const ATTENTION_HELPER = `

class MultiHeadAttention(nn.Module):
    """Self-attention on [batch, T, features] (Tessera's multi_head_attention, Keras's MultiHeadAttention):
    query/key/value projections to heads x key_dim (value_dim), softmax(q k^T / sqrt(key_dim)) per head,
    later positions masked when causal, dropout on the probabilities (train() only), output projection."""

    def __init__(self, features, num_heads, key_dim, value_dim, causal, bias, dropout):
        super().__init__()
        self.num_heads, self.key_dim, self.value_dim, self.causal = num_heads, key_dim, value_dim, causal
        self.scale = torch.tensor(1.0 / key_dim ** 0.5, dtype=torch.float32).item()
        self.query = nn.Linear(features, num_heads * key_dim, bias=bias)
        self.key = nn.Linear(features, num_heads * key_dim, bias=bias)
        self.value = nn.Linear(features, num_heads * value_dim, bias=bias)
        self.attention_output = nn.Linear(num_heads * value_dim, features, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, _ = x.shape
        heads = lambda y, d: y.reshape(b, t, self.num_heads, d).transpose(1, 2)  # [batch, heads, T, d]
        q = heads(self.query(x), self.key_dim)
        k = heads(self.key(x), self.key_dim)
        v = heads(self.value(x), self.value_dim)
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        if self.causal:
            later = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(later, float('-inf'))
        probs = self.dropout(F.softmax(scores, dim=-1))
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, self.num_heads * self.value_dim)
        return self.attention_output(out)
`;
