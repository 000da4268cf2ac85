#!/usr/bin/env python3
"""local_speakers.py: would pyannote's local speakers beat callscope's word windows?

issue 16 asks for segmentation-3.0 to give local speaker activity, as in the
pyannote pipeline, not only overlap. This measures that pipeline against the
same words the shipped diarizer scores (`mono_tune`, reference words):

1. segmentation-3.0 (models/pyannote-segmentation-3.0.onnx) over the mono mix
   in 10 s chunks, as crates/diarize/src/overlap.rs runs it; each 16.9 ms
   frame gets its most likely powerset class (nobody, local speaker 1-3, a
   pair);
2. per chunk and local speaker, the 10 ms Kaldi filter-bank frames
   (tools/models/kaldi_fbank.py) where that speaker alone is active and a
   word is spoken; with at least 1 s of them, CAM++ embeds them as one input
   (mean-normalised, as 3D-Speaker does), as pyannote embeds each local
   speaker over its masked chunk;
3. average-linkage clustering of those embeddings, told the number of speakers
   (2: an advantage the shipped diarizer does not get);
4. each word takes the cluster of its local speaker (most of its frames); a
   word with no embedded local speaker goes to the nearest centroid of a 1.5 s
   window around it.

Printed per call: the share of word time on the wrong speaker (best
one-to-one mapping, as `mono_tune` scores), the local speakers' impurity (the
share of their word frames whose true speaker is not the local speaker's
majority: what segmentation itself mixed up), how many local speakers were
embedded, and the cosine of the two centroids.

    /work/evenv/bin/python tools/eval/local_speakers.py SET [SET...]   # SET: calls/<id>/mono16k.flac, transcript.json
    cargo run --release -p callscope-diarize --example mono_tune -- SET models/campplus-sv-zh-en.onnx   # the shipped diarizer

Needs numpy, av (PyAV) and onnxruntime 1.32 (the eval venv of README.md, plus
`pip install onnxruntime==1.32.0`), and the models of tools/models/fetch_diarize.sh.
Results: docs/diarization.md, "Local speakers from segmentation-3.0".
"""
import json, sys, os, glob, itertools
from pathlib import Path
from collections import Counter
import numpy as np, av, onnxruntime as ort
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "models")); import kaldi_fbank  # noqa: E402
M = str(ROOT / "models")
o=ort.SessionOptions(); o.intra_op_num_threads=1
seg=ort.InferenceSession(f'{M}/pyannote-segmentation-3.0.onnx',o)
cam=ort.InferenceSession(f'{M}/campplus-sv-zh-en.onnx',o)
def decode(p):
    with av.open(p) as f:
        s=f.streams.audio[0]; ch=s.codec_context.channels; parts=[]
        for fr in f.decode(s):
            d=fr.to_ndarray(); parts.append(d.reshape(-1,ch).T if fr.format.is_packed else d)
    d=np.concatenate(parts,1)
    if d.dtype.kind in 'iu': d=d.astype(np.float64)/float(np.iinfo(d.dtype).max+1)
    return d.astype(np.float32).mean(0)
CH=160000; STEP=270; SPAN=991
def segment(x):
    t=[];c=[];k=[]
    for i in range(0,len(x),CH):
        chn=x[i:i+CH]; inp=np.zeros(CH,np.float32); inp[:len(chn)]=chn
        lp=seg.run(None,{'waveform':inp[None,None,:]})[0][0]
        for f,row in enumerate(lp):
            cc=f*STEP+SPAN//2
            if cc>=len(chn): break
            t.append((i+cc)/16000); c.append(i//CH); k.append(int(row.argmax()))
    return np.array(t),np.array(c),np.array(k)
def embed(feats):
    f=feats-feats.mean(0,keepdims=True)
    v=cam.run(None,{'fbank':f[None].astype(np.float32)})[0][0]
    return v/np.linalg.norm(v)
def ahc(V,k=None,th=None):
    cl=[[i] for i in range(len(V))]
    S=V@V.T
    while len(cl)>1:
        best=None
        for a in range(len(cl)):
            for b in range(a+1,len(cl)):
                s=S[np.ix_(cl[a],cl[b])].mean()
                if best is None or s>best[0]: best=(s,a,b)
        if k is not None and len(cl)<=k: break
        if k is None and best[0]<th: break
        s,a,b=best; cl[a]+=cl[b]; del cl[b]
    lab=np.zeros(len(V),int)
    for i,c in enumerate(cl): lab[c]=i
    return lab
def err(words,truth,labels):
    names=sorted(set(truth)); k=max(labels)+1
    ov=np.zeros((k,len(names))); tot=0
    for (s,e),t,h in zip(words,truth,labels):
        if h<0: h=0
        d=max(e-s,0.01); tot+=d; ov[h][names.index(t)]+=d
    best=0
    n=max(k,len(names))
    for perm in itertools.permutations(range(n),k):
        best=max(best,sum(ov[h][perm[h]] for h in range(k) if perm[h]<len(names)))
    return 1-best/tot
def call(d, K=2):
    x=decode(f'{d}/mono16k.flac')
    tj=json.load(open(f'{d}/transcript.json'))
    W=[(w['start'],w['end']) for w in tj['words'] if w.get('start') is not None]
    T=[w['speaker'] for w in tj['words'] if w.get('start') is not None]
    fb=kaldi_fbank.fbank(x)
    nf=len(fb); fc=(np.arange(nf)*160+200)/16000
    st,sc,sk=segment(x)
    # nearest seg frame for each fbank frame
    idx=np.clip(np.searchsorted(st,fc),0,len(st)-1)
    idx2=np.clip(idx-1,0,len(st)-1)
    near=np.where(np.abs(st[idx2]-fc)<np.abs(st[idx]-fc),idx2,idx)
    fcls=sk[near]; fch=sc[near]
    # speech mask from words (what the production code knows)
    speech=np.zeros(nf,bool)
    for s,e in W: speech[int(s*100):int(e*100)+1]=True
    locs=[];V=[]
    for c in np.unique(sc):
        for j in (1,2,3):
            m=(fch==c)&(fcls==j)&speech
            if m.sum()>=100:
                locs.append((c,j)); V.append(embed(fb[m]))
    V=np.array(V)
    lab=ahc(V,k=K) if len(V)>=K else np.zeros(len(V),int)
    L={l:lab[i] for i,l in enumerate(locs)}
    cent=[V[lab==i].mean(0) for i in range(max(lab)+1)]
    # word labels
    out=[]
    for s,e in W:
        a,b=int(s*100),min(int(e*100)+1,nf)
        cnt=Counter((int(fch[f]),int(fcls[f])) for f in range(a,b) if 1<=fcls[f]<=3)
        l=next((k for k,_ in cnt.most_common() if k in L),None)
        if l is None:
            # nearest centroid of a 1.5 s window around word
            mid=int((s+e)*50); w0=max(0,mid-75); v=embed(fb[w0:w0+150])
            out.append(int(np.argmax([v@cc for cc in cent])))
        else: out.append(int(L[l]))
    # purity of local speakers vs truth
    imp=0;tot=0
    for l in locs:
        m=(fch==l[0])&(fcls==l[1])&speech
        tt=Counter()
        for (s,e),t in zip(W,T):
            a,b=int(s*100),int(e*100)+1
            tt[t]+=m[a:b].sum()
        tot+=sum(tt.values()); imp+=sum(tt.values())-max(tt.values())
    # separation: centroid cosine between clusters
    sep=float(cent[0]@cent[1]/np.linalg.norm(cent[0])/np.linalg.norm(cent[1])) if len(cent)>1 else 1
    return err(W,T,out), imp/max(tot,1), len(locs), sep
if __name__=='__main__':
    for setdir in sys.argv[1:]:
        es=[]
        for d in sorted(glob.glob(f'{setdir}/calls/*')):
            e,imp,n,sep=call(d); es.append(e)
            print(f'{setdir.split("/")[-1]:22s} {os.path.basename(d)[:6]} err {100*e:5.1f}% local-impurity {100*imp:4.1f}% locals {n} sep {sep:.2f}',flush=True)
        print(f'{setdir}: mean {100*np.mean(es):.1f}% worst {100*max(es):.1f}%')
